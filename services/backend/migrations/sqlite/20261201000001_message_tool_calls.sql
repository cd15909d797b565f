-- The tools an assistant reply ran ([{tool, input, output}] as JSON text), so a conversation
-- read back later shows the actions each reply took. NULL for user messages and older replies.
ALTER TABLE messages ADD COLUMN tool_calls TEXT;

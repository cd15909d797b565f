//! The task tools shared by the chat agent and the MCP server: placeholder until they land.

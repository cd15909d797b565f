-- A version per user that moves with every insert, update and delete of one of the user's
-- tasks, in the same transaction, so a backend replica can tell whether a listing it keeps in
-- memory is still current with one primary-key read, whichever replica made the last write.
CREATE TABLE task_versions (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE FUNCTION count_task_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO task_versions AS v (user_id, version) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        INSERT INTO task_versions AS v (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_count_writes
    AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_task_write();

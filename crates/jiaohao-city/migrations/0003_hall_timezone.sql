-- The hall's own time zone (its settings' IANA name, written by the ingest from the folded
-- hall), so the pages show each hall's times on its own clock.
ALTER TABLE halls ADD COLUMN timezone text NOT NULL DEFAULT 'Asia/Shanghai';

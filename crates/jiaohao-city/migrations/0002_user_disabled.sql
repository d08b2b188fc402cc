-- A city user a city admin disabled: cannot sign in, and their sessions are gone.
ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;

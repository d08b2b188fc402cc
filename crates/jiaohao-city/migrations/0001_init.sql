-- The city's first schema: halls, every hall's records, per-ticket rows, city users.

CREATE TABLE halls (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    url           text NOT NULL,
    -- The hall's ingest token, sealed with the city's key file (never in clear here).
    token_sealed  bytea NOT NULL,
    -- The highest sequence number written for this hall: records 1..last_seq are all here.
    last_seq      bigint NOT NULL DEFAULT 0,
    -- connected, unreachable, token_refused, error, never
    state         text NOT NULL DEFAULT 'never',
    state_detail  text NOT NULL DEFAULT '',
    state_since   timestamptz NOT NULL DEFAULT now(),
    last_contact  timestamptz,
    last_record_at timestamptz,
    -- The hall as its latest day started (the core's snapshot, stored JSON) and the sequence
    -- number of that DayStarted record: a restart folds only the records after it.
    snapshot      text,
    snapshot_seq  bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE records (
    hall          integer NOT NULL REFERENCES halls (id),
    seq           bigint NOT NULL,
    term          bigint NOT NULL,
    at            timestamptz NOT NULL,
    actor         text NOT NULL,
    kind          text NOT NULL,
    -- A configuration event (services, windows, settings, calendar): folded first on restart.
    configuration boolean NOT NULL,
    body          text NOT NULL,
    PRIMARY KEY (hall, seq)
);
CREATE INDEX records_configuration ON records (hall, seq) WHERE configuration;

-- One row per ticket, from the core's History fold of the hall's log.
CREATE TABLE tickets (
    hall            integer NOT NULL REFERENCES halls (id),
    ticket          bigint NOT NULL,
    day             date NOT NULL,
    number          text NOT NULL,
    issued_service  text NOT NULL,
    service         text NOT NULL,
    green_channel   boolean NOT NULL,
    issued_at       timestamptz NOT NULL,
    first_called_at timestamptz,
    wait_ms         bigint,
    wait_target_min integer,
    within_target   boolean,
    called_window   integer,
    clerk           text,
    finished_at     timestamptz,
    handling_ms     bigint,
    -- waiting, called, finished, no_show, transferred
    outcome         text NOT NULL,
    no_shows        integer NOT NULL DEFAULT 0,
    transfers       integer NOT NULL DEFAULT 0,
    out_of_order    integer NOT NULL DEFAULT 0,
    -- 5 very satisfied … 1 very dissatisfied
    rating          smallint,
    rating_reason   text,
    rated_at        timestamptz,
    -- The wait in tenths of a minute, rounded as the hall's reports round it (for p90).
    wait_bin        integer,
    PRIMARY KEY (hall, ticket)
);
CREATE INDEX tickets_day ON tickets (day);
CREATE INDEX tickets_hall_day ON tickets (hall, day);
CREATE INDEX tickets_bad_ratings ON tickets (rated_at) WHERE rating <= 2;

-- Per hall and day, the ticket rows added up (rewritten with the rows in the ingest's
-- transaction), so a report across halls for a month reads a few thousand rows, not a million.
CREATE TABLE hall_days (
    hall          integer NOT NULL REFERENCES halls (id),
    day           date NOT NULL,
    issued        bigint NOT NULL,
    called        bigint NOT NULL,
    served        bigint NOT NULL,
    no_shows      bigint NOT NULL,
    transfers     bigint NOT NULL,
    wait_sum      bigint NOT NULL,
    handling_sum  bigint NOT NULL,
    handled       bigint NOT NULL,
    judged        bigint NOT NULL,
    within_target bigint NOT NULL,
    rated_5       bigint NOT NULL,
    rated_4       bigint NOT NULL,
    rated_3       bigint NOT NULL,
    rated_2       bigint NOT NULL,
    rated_1       bigint NOT NULL,
    PRIMARY KEY (hall, day)
);
CREATE INDEX hall_days_day ON hall_days (day);

-- Per hall and day, how many first calls waited each tenth of a minute: the exact p90 by
-- nearest rank over any range, as the hall's reports compute it.
CREATE TABLE wait_bins (
    hall  integer NOT NULL REFERENCES halls (id),
    day   date NOT NULL,
    bin   integer NOT NULL,
    n     integer NOT NULL,
    PRIMARY KEY (hall, day, bin)
);
CREATE INDEX wait_bins_day ON wait_bins (day);

CREATE TABLE users (
    name          text PRIMARY KEY,
    role          text NOT NULL CHECK (role IN ('city_admin', 'viewer')),
    password_hash text NOT NULL,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    secret      text PRIMARY KEY,
    name        text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf        text NOT NULL,
    expires_ms  bigint NOT NULL
);

-- 差评 cases (差评工单), one row per case, from the core's registry as the hall's log folds:
-- written again at every step, so a case closed a week later changes the row of the day it
-- was rated on (`day`), and the reports of that day.
CREATE TABLE cases (
    hall            integer NOT NULL REFERENCES halls (id),
    -- The case's id: the rated ticket's id.
    case_id         bigint NOT NULL,
    -- The hall's day of the rating.
    day             date NOT NULL,
    number          text NOT NULL,
    service         text NOT NULL,
    window_number   integer NOT NULL,
    -- 2 dissatisfied, 1 very dissatisfied
    rating          smallint NOT NULL,
    reason          text,
    due             date NOT NULL,
    -- open, called_back, fixed, closed
    state           text NOT NULL,
    called_back_on  date,
    fixed_on        date,
    closed_on       date,
    fixed_in_time   boolean NOT NULL,
    PRIMARY KEY (hall, case_id)
);
CREATE INDEX cases_day ON cases (day);

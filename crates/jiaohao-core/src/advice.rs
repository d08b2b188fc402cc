//! Assignment advice (调度建议): when a service's projected wait for a new ticket passes its
//! wait target, which working window should also take that service. Each candidate — a working
//! window that does not serve the service and has room for one more — is tried on a copy of
//! the hall through the very command the assignment editor sends
//! ([`Command::AssignServices`], the service added after the window's own, so its primary
//! service stays first), and the copy is re-projected with the same estimator
//! ([`Projection`]). The suggestions are the candidates that shorten the wait, best first.

use crate::error::Error;
use crate::estimate::Projection;
use crate::event::Command;
use crate::hall::Hall;
use crate::ids::{ServiceCode, WindowNumber};
use crate::time::{Millis, Now};

/// What adding a service to a window does to one of the window's own services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub service: ServiceCode,
    /// Projected wait of a new ticket of the service, in milliseconds, before and after;
    /// `None` when no working window would call it.
    pub wait_before_ms: Option<i64>,
    pub wait_after_ms: Option<i64>,
}

/// One concrete suggestion: window `window` also takes `add_service`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub window: WindowNumber,
    pub add_service: ServiceCode,
    /// Projected wait of a new ticket of `add_service` now, in milliseconds; `None` when no
    /// working window serves it at all.
    pub wait_before_ms: Option<i64>,
    /// The same with the window taking the service too.
    pub wait_after_ms: i64,
    /// The window's own services and how their waits change.
    pub others: Vec<Effect>,
    /// The services the window would serve, primary first: the body of the assignment.
    pub services_after: Vec<ServiceCode>,
}

impl Suggestion {
    /// How many milliseconds the suggestion takes off the service's projected wait (a service
    /// no working window serves counts as a day's wait).
    pub fn benefit_ms(&self) -> i64 {
        self.wait_before_ms.unwrap_or(24 * 60 * Millis::MINUTE) - self.wait_after_ms
    }
}

/// Suggestions for the hall as it is at `now`, best first (by minutes saved on the hot
/// service). A service counts as hot when a new ticket's projected wait passes its wait
/// target, or when tickets wait for it and no working window serves it. A window keeps at most `max_services` services; a suggestion that pushes one of
/// the window's own services past its wait target (when it was within it) is left out, as is
/// one that saves less than a minute.
pub fn advise(hall: &Hall, now: Now, max_services: usize) -> Vec<Suggestion> {
    let before = Projection::of(hall, now);
    let mut suggestions = Vec::new();
    for service in hall.services() {
        if !service.enabled {
            continue;
        }
        let target_ms = i64::from(service.wait_target_min) * Millis::MINUTE;
        let wait_before = before.new_ticket_wait_ms(&service.code);
        if wait_before.is_some_and(|wait| wait <= target_ms) {
            continue;
        }
        // A service no working window serves counts only while someone waits for it (before
        // the windows open, every service would).
        if wait_before.is_none() && hall.queues().waiting_for_service(&service.code) == 0 {
            continue;
        }
        for window in hall.windows() {
            if !window.state.is_working()
                || window.def.services.contains(&service.code)
                || window.def.services.len() >= max_services
            {
                continue;
            }
            let mut services_after = window.def.services.clone();
            services_after.push(service.code.clone());
            let Ok(after) = assigned(hall, now, window.number(), &services_after) else {
                continue;
            };
            let Some(wait_after) = after.new_ticket_wait_ms(&service.code) else {
                continue;
            };
            let others: Vec<Effect> = window
                .def
                .services
                .iter()
                .map(|code| Effect {
                    service: code.clone(),
                    wait_before_ms: before.new_ticket_wait_ms(code),
                    wait_after_ms: after.new_ticket_wait_ms(code),
                })
                .collect();
            let hurts = others.iter().any(|effect| {
                let target = hall
                    .service(&effect.service)
                    .map_or(i64::MAX, |s| i64::from(s.wait_target_min) * Millis::MINUTE);
                let was_within = effect.wait_before_ms.is_some_and(|w| w <= target);
                let is_within = effect.wait_after_ms.is_some_and(|w| w <= target);
                was_within && !is_within
            });
            let suggestion = Suggestion {
                window: window.number(),
                add_service: service.code.clone(),
                wait_before_ms: wait_before,
                wait_after_ms: wait_after,
                others,
                services_after,
            };
            if !hurts && suggestion.benefit_ms() >= Millis::MINUTE {
                suggestions.push(suggestion);
            }
        }
    }
    suggestions.sort_by_key(|s| {
        (
            std::cmp::Reverse(s.benefit_ms()),
            s.window,
            s.add_service.clone(),
        )
    });
    suggestions
}

/// The projection of the hall with one window's services changed, by the assignment command.
fn assigned(
    hall: &Hall,
    now: Now,
    window: WindowNumber,
    services: &[ServiceCode],
) -> Result<Projection, Error> {
    let mut trial = hall.clone();
    trial.apply(
        &Command::AssignServices {
            window,
            services: services.to_vec(),
        },
        now,
    )?;
    Ok(Projection::of(&trial, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::ids::Prefix;
    use crate::service::Service;
    use crate::time::{ClockTime, LocalDate};
    use crate::window::WindowDef;

    fn code(text: &str) -> ServiceCode {
        ServiceCode::parse(text).unwrap()
    }

    fn at(minute: u16) -> Now {
        Now {
            at: Millis((29_000_000 + i64::from(minute)) * Millis::MINUTE),
            date: LocalDate::new(2026, 3, 2).unwrap(),
            time: ClockTime::from_minutes(9 * 60 + minute).unwrap(),
        }
    }

    fn service(name: &str, prefix: &str, minutes: u32) -> Service {
        Service::new(code(name), Prefix::parse(prefix).unwrap(), name, name)
            .with_handling_estimate(minutes)
    }

    /// Window 1 serves id_card (crowded), windows 2 and 3 hukou (quiet); window 3 already has
    /// two services.
    fn crowded_hall() -> Hall {
        let mut hall = Hall::new();
        hall.apply(&Command::AddService(service("id_card", "B", 5)), at(0))
            .unwrap();
        hall.apply(&Command::AddService(service("hukou", "A", 5)), at(0))
            .unwrap();
        hall.apply(&Command::AddService(service("vehicle", "C", 5)), at(0))
            .unwrap();
        // No window serves passport; nobody waits for it, so it needs no advice.
        hall.apply(&Command::AddService(service("passport", "D", 5)), at(0))
            .unwrap();
        for (number, services) in [
            (1, vec![code("id_card")]),
            (2, vec![code("hukou")]),
            (3, vec![code("hukou"), code("vehicle")]),
        ] {
            let def = WindowDef {
                number: WindowNumber::new(number).unwrap(),
                name_zh: "窗口".into(),
                name_en: "window".into(),
                services,
                breaks: Vec::new(),
            };
            hall.apply(&Command::AddWindow(def), at(0)).unwrap();
            hall.apply(
                &Command::Open {
                    window: WindowNumber::new(number).unwrap(),
                },
                at(0),
            )
            .unwrap();
        }
        for n in 0..8 {
            let events = hall
                .apply(
                    &Command::IssueTicket {
                        service: code("id_card"),
                        green_channel: false,
                        token: format!("token-{n:016}"),
                        idempotency_key: None,
                    },
                    at(1),
                )
                .unwrap();
            assert!(matches!(events[0], Event::TicketIssued { .. }));
        }
        hall
    }

    #[test]
    fn a_quiet_window_is_told_to_take_the_crowded_service() {
        let hall = crowded_hall();
        let before = Projection::of(&hall, at(2));
        // Eight id_card tickets of five minutes at one window: a new one waits 40 minutes.
        assert_eq!(
            before.new_ticket_wait_ms(&code("id_card")),
            Some(40 * Millis::MINUTE)
        );
        let suggestions = advise(&hall, at(2), 2);
        // Window 3 is full (two services); window 2 takes id_card and halves the wait.
        assert_eq!(suggestions.len(), 1, "{suggestions:?}");
        let best = &suggestions[0];
        assert_eq!(best.window, WindowNumber::new(2).unwrap());
        assert_eq!(best.add_service, code("id_card"));
        assert_eq!(best.wait_before_ms, Some(40 * Millis::MINUTE));
        assert_eq!(best.wait_after_ms, 20 * Millis::MINUTE);
        assert_eq!(best.services_after, [code("hukou"), code("id_card")]);
        assert_eq!(best.others.len(), 1);
        assert_eq!(best.others[0].service, code("hukou"));
        // Allowing three services, window 3 is a candidate too, as good as window 2; window
        // 2 sorts first on a tie.
        let wider = advise(&hall, at(2), 3);
        assert_eq!(wider.len(), 2);
        assert_eq!(wider[0].window, WindowNumber::new(2).unwrap());
        assert_eq!(wider[1].window, WindowNumber::new(3).unwrap());
        // The suggestion, applied, gives the projected wait it promised.
        let mut applied = hall.clone();
        applied
            .apply(
                &Command::AssignServices {
                    window: best.window,
                    services: best.services_after.clone(),
                },
                at(2),
            )
            .unwrap();
        assert_eq!(
            Projection::of(&applied, at(2)).new_ticket_wait_ms(&code("id_card")),
            Some(best.wait_after_ms)
        );
    }

    #[test]
    fn no_advice_while_every_service_is_within_target() {
        let mut hall = crowded_hall();
        let window = WindowNumber::new(1).unwrap();
        for minute in 2..7 {
            hall.apply(&Command::CallNext { window }, at(minute))
                .unwrap();
        }
        // Three left plus the one in hand: a new one waits about 20 minutes at most.
        let projection = Projection::of(&hall, at(7));
        assert!(projection.new_ticket_wait_ms(&code("id_card")).unwrap() <= 20 * Millis::MINUTE);
        assert_eq!(advise(&hall, at(7), 2), Vec::new());
        // Someone waits for passport, which no window serves: window 2 (idle, room for one
        // more) is the best to take it; window 1 could too, at a cost to id_card that keeps
        // it within target.
        hall.apply(
            &Command::IssueTicket {
                service: code("passport"),
                green_channel: false,
                token: "token-passport-0001".into(),
                idempotency_key: None,
            },
            at(7),
        )
        .unwrap();
        let suggestions = advise(&hall, at(7), 2);
        let found: Vec<(u16, &str)> = suggestions
            .iter()
            .map(|s| (s.window.get(), s.add_service.as_str()))
            .collect();
        assert_eq!(found, [(2, "passport"), (1, "passport")]);
        assert_eq!(suggestions[0].wait_before_ms, None);
        assert_eq!(suggestions[0].wait_after_ms, 5 * Millis::MINUTE);
        let id_card = &suggestions[1].others[0];
        assert!(id_card.wait_after_ms > id_card.wait_before_ms);
    }
}

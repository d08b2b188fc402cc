//! The wait estimate (预计等待): projects the hall forward under the hall's call-next policy —
//! the windows that are working, what each serves, how long its current ticket has run — to
//! tell when each waiting ticket will be called, and how long a ticket issued now would wait.
//!
//! Handling times are the hall's expected values ([`Hall::expected_handling_ms`]); windows that
//! are paused or closed are assumed to stay so; no further arrivals are assumed except the one
//! hypothetical ticket whose wait is asked for.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use crate::dispatch::{Caller, QueueEntry, Queues};
use crate::hall::Hall;
use crate::ids::{ServiceCode, TicketId, WindowNumber};
use crate::time::Millis;
use crate::window::WindowState;

/// A ticket that runs past its expected handling time is assumed to need at least this share
/// of the expected time again.
const OVERRUN_REMAINING_SHARE: i64 = 4;

/// The projected future of the hall at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    /// When each waiting ticket is projected to be called; absent if no working window can.
    call_at: HashMap<TicketId, Millis>,
    /// The projected wait of a normal ticket issued now, per service, in milliseconds;
    /// `None` if no working window would call it.
    new_ticket_wait_ms: BTreeMap<ServiceCode, Option<i64>>,
    now: Millis,
}

impl Projection {
    /// Projects the hall forward from `now`.
    pub fn of(hall: &Hall, now: Millis) -> Projection {
        let mut call_at = HashMap::new();
        run(hall, hall.queues().clone(), now, None, |id, at| {
            call_at.insert(id, at);
            ControlFlow::Continue(())
        });
        let new_ticket_wait_ms = hall
            .services()
            .into_iter()
            .map(|service| {
                let probe = QueueEntry {
                    id: TicketId(u64::MAX),
                    issued_at: now,
                    service: service.code.clone(),
                    green_channel: false,
                    pinned_window: None,
                };
                let mut queues = hall.queues().clone();
                queues.push(&probe);
                let wait = project_until(hall, queues, now, Some(&probe), probe.id)
                    .map(|at| at.since(now));
                (service.code.clone(), wait)
            })
            .collect();
        Projection {
            call_at,
            new_ticket_wait_ms,
            now,
        }
    }

    /// When one waiting ticket is projected to be called: the same answer as
    /// `Projection::of(hall, now).call_at(ticket)`, found by projecting only until that ticket
    /// is called (what the simulator needs at every ticket it issues).
    pub fn call_at_of(hall: &Hall, now: Millis, ticket: TicketId) -> Option<Millis> {
        project_until(hall, hall.queues().clone(), now, None, ticket)
    }

    /// The projected remaining wait of a waiting ticket, in milliseconds.
    pub fn wait_ms(&self, ticket: TicketId) -> Option<i64> {
        self.call_at.get(&ticket).map(|at| at.since(self.now))
    }

    /// The instant the projection was made.
    pub fn made_at(&self) -> Millis {
        self.now
    }

    /// When a waiting ticket is projected to be called.
    pub fn call_at(&self, ticket: TicketId) -> Option<Millis> {
        self.call_at.get(&ticket).copied()
    }

    /// The projected wait of a ticket issued now for a service, in milliseconds.
    pub fn new_ticket_wait_ms(&self, service: &ServiceCode) -> Option<i64> {
        self.new_ticket_wait_ms.get(service).copied().flatten()
    }
}

struct Agent<'a> {
    number: WindowNumber,
    services: &'a [ServiceCode],
    consecutive_green: u32,
    free_at: Millis,
    idle_since: Millis,
}

/// Plays the policy forward until `ticket` is called; returns when.
fn project_until(
    hall: &Hall,
    queues: Queues,
    now: Millis,
    probe: Option<&QueueEntry>,
    ticket: TicketId,
) -> Option<Millis> {
    let mut found = None;
    run(hall, queues, now, probe, |id, at| {
        if id == ticket {
            found = Some(at);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found
}

/// Plays the policy forward: the window that frees first (idle longest on a tie) calls next.
/// Tells `on_call` each projected call in order, until it says stop or nothing more is called.
fn run(
    hall: &Hall,
    mut queues: Queues,
    now: Millis,
    probe: Option<&QueueEntry>,
    mut on_call: impl FnMut(TicketId, Millis) -> ControlFlow<()>,
) {
    let mut agents: Vec<Agent<'_>> = hall
        .windows()
        .filter_map(|window| {
            let (free_at, idle_since) = match &window.state {
                WindowState::Open => (now, window.state_since),
                WindowState::Serving { ticket } => {
                    let expected = hall
                        .ticket(*ticket)
                        .map_or(0, |t| hall.expected_handling_ms(&t.service));
                    let elapsed = now.since(window.state_since);
                    let remaining = (expected - elapsed).max(expected / OVERRUN_REMAINING_SHARE);
                    (now.plus_ms(remaining), now)
                }
                WindowState::Closed | WindowState::Paused { .. } => return None,
            };
            Some(Agent {
                number: window.number(),
                services: &window.def.services,
                consecutive_green: window.consecutive_green,
                free_at,
                idle_since,
            })
        })
        .collect();
    // Counted here rather than asked of the queues at every step, which would sum them all.
    let mut waiting = queues.len();
    let policy = hall.policy();
    while waiting > 0 && !agents.is_empty() {
        let index = (0..agents.len())
            .min_by_key(|&i| (agents[i].free_at, agents[i].idle_since, agents[i].number))
            .unwrap_or(0);
        let agent = &mut agents[index];
        let caller = Caller {
            window: agent.number,
            services: agent.services,
            consecutive_green: agent.consecutive_green,
        };
        let Some(choice) = policy.choose(&queues, caller) else {
            // Nothing left that this window may serve, and nothing new arrives.
            agents.swap_remove(index);
            continue;
        };
        let entry = match probe {
            Some(probe) if probe.id == choice.id => Some(probe.clone()),
            _ => hall
                .ticket(choice.id)
                .and_then(|ticket| hall.queue_entry(ticket)),
        };
        let Some(entry) = entry else {
            agents.swap_remove(index);
            continue;
        };
        if queues.remove(&entry) {
            waiting -= 1;
        }
        let called_at = agent.free_at;
        agent.consecutive_green = if choice.green_channel {
            agent.consecutive_green + 1
        } else {
            0
        };
        agent.idle_since = agent.free_at;
        agent.free_at = agent
            .free_at
            .plus_ms(hall.expected_handling_ms(&entry.service));
        if on_call(choice.id, called_at).is_break() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::Policy;
    use crate::event::Command;
    use crate::ids::Prefix;
    use crate::service::Service;
    use crate::time::{ClockTime, LocalDate, Now};
    use crate::window::WindowDef;

    fn service(code: &str, prefix: &str, minutes: u32) -> Service {
        Service {
            code: ServiceCode::parse(code).unwrap(),
            name_zh: code.into(),
            name_en: code.into(),
            prefix: Prefix::parse(prefix).unwrap(),
            wait_target_min: 30,
            handling_target_min: 30,
            handling_estimate_min: minutes,
            daily_cap: None,
            hours: None,
            documents_zh: Vec::new(),
            documents_en: Vec::new(),
            fee_note_zh: String::new(),
            fee_note_en: String::new(),
            enabled: true,
        }
    }

    /// Random-but-fixed days of a three-window hall, checking after every command that the
    /// one-ticket projection agrees with the whole projection for every waiting ticket.
    #[test]
    fn one_ticket_projection_agrees_with_the_whole_projection() {
        for policy in [Policy::Hub, Policy::OldestFirst, Policy::PrimaryFirst] {
            let mut hall = Hall::new().with_policy(policy);
            let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
            let mut next = |bound: u64| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed % bound
            };
            let now = |minute: i64| Now {
                at: Millis(minute * Millis::MINUTE),
                date: LocalDate::new(2026, 3, 2).unwrap(),
                time: ClockTime::from_minutes(8 * 60 + minute as u16).unwrap(),
            };
            let codes = ["hukou", "id_card", "vehicle"];
            for (index, (code, minutes)) in codes.iter().zip([8, 4, 10]).enumerate() {
                let prefix = ["A", "B", "C"][index];
                hall.apply(&Command::AddService(service(code, prefix, minutes)), now(0))
                    .unwrap();
            }
            for (number, services) in [(1, [0, 1]), (2, [1, 2]), (3, [2, 0])] {
                let def = WindowDef {
                    number: WindowNumber::new(number).unwrap(),
                    name_zh: "窗口".into(),
                    name_en: "window".into(),
                    services: services
                        .iter()
                        .map(|&i| ServiceCode::parse(codes[i]).unwrap())
                        .collect(),
                };
                hall.apply(&Command::AddWindow(def), now(0)).unwrap();
                let window = WindowNumber::new(number).unwrap();
                hall.apply(&Command::Open { window }, now(0)).unwrap();
            }
            for step in 0..400u64 {
                let minute = step as i64;
                let window = WindowNumber::new(1 + next(3) as u32).unwrap();
                let command = match next(6) {
                    0..=2 => Command::IssueTicket {
                        service: ServiceCode::parse(codes[next(3) as usize]).unwrap(),
                        green_channel: next(5) == 0,
                        token: format!("token-{step:016}"),
                        idempotency_key: None,
                    },
                    3 | 4 => Command::CallNext { window },
                    _ => Command::Pause {
                        window,
                        reason: "break".into(),
                    },
                };
                // Refusals (pausing a serving window, …) are part of a random day.
                let _ = hall.apply(&command, now(minute));
                if next(4) == 0 {
                    let _ = hall.apply(&Command::Resume { window }, now(minute));
                }
                let projection = Projection::of(&hall, Millis(minute * Millis::MINUTE));
                for ticket in hall.tickets().iter().filter(|t| t.status.is_queued()) {
                    assert_eq!(
                        Projection::call_at_of(&hall, Millis(minute * Millis::MINUTE), ticket.id),
                        projection.call_at(ticket.id),
                        "{policy:?}, step {step}, ticket {}",
                        ticket.number
                    );
                }
            }
        }
    }
}

//! Which ticket a window gets when its clerk calls the next one: the call-next policy, kept
//! behind the one function [`choose`] so the simulator measures exactly what the hub runs.
//!
//! The hub's policy ([`Policy::Hub`]), in order:
//! 1. tickets transferred to this very window, oldest first;
//! 2. green-channel tickets of the window's services, oldest first — unless the window called
//!    [`GREEN_STREAK_LIMIT`] green-channel tickets in a row and a normal ticket it may serve
//!    has waited longer (the starvation guard);
//! 3. the oldest normal ticket among the window's services — except that when the head ticket
//!    of another of its services was issued at most [`NEAR_TIE_MS`] later (a near tie), the
//!    window takes the head of the service with the most normal tickets waiting per window
//!    assigned it (on equal backlogs, the older). A window that shares a thinly staffed,
//!    crowded service with well-staffed ones thus helps where it is needed most, and nobody is
//!    passed by a ticket more than [`NEAR_TIE_MS`] younger.
//!
//! "Oldest" is the queue time: a walk-in's issue time, a checked-in booking's slot start (or
//! its check-in time if it came late); a transfer keeps it. Within one service and class the
//! order is strictly queue-time order; every rule is work-conserving (a window with a ticket it may
//! serve waiting always gets one).
//!
//! Measured in the simulator on common random numbers (`jiaohao-sim bench`, 300 days each of
//! `county-hall` / `county-hall-busy`), step 3's near-tie rule beats plain oldest-first
//! ([`Policy::OldestFirst`]) on mean wait (3.79 vs 3.84 / 11.32 vs 11.45 min), max wait (27.5
//! vs 28.4 / 48.8 vs 49.1 min) and skips p99 (12.6 vs 13.1 / 16.4 vs 16.8). Tried and
//! dropped: near ties by shortest handling time (lower mean, but more skips and a longer max
//! wait), by fewest windows, and by backlog in work-minutes per window (each no better than
//! oldest-first on one of the three); ties of 1–5 minutes all helped, 3 did best.
//!
//! The other [`Policy`] values exist so the simulator can measure the hub's rule against the
//! alternatives on the same tickets; a [`Hall`](crate::Hall) runs [`Policy::Hub`] unless it is
//! built with another one, and the hub never does.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{ServiceCode, TicketId, WindowNumber};
use crate::time::Millis;

/// After this many green-channel calls in a row at one window, a normal ticket that has waited
/// longer goes next.
pub const GREEN_STREAK_LIMIT: u32 = 2;

/// How much later than the oldest a normal ticket may have been issued and still count as
/// nearly tied with it under [`Policy::Hub`] (measured in the simulator: 1–5 minutes all beat
/// plain oldest-first; 3 did best).
pub const NEAR_TIE_MS: i64 = 3 * Millis::MINUTE;

type QueueKey = (Millis, TicketId);

/// One class of a service's queue: its green-channel or its normal tickets.
type Class = fn(&ServiceQueue) -> &BTreeSet<QueueKey>;

/// Where a waiting ticket stands: enough to find it in the queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: TicketId,
    /// The ticket's queue time: its issue time, or a checked-in booking's slot start.
    pub queued_at: Millis,
    pub service: ServiceCode,
    pub green_channel: bool,
    pub pinned_window: Option<WindowNumber>,
}

impl QueueEntry {
    fn key(&self) -> QueueKey {
        (self.queued_at, self.id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ServiceQueue {
    green: BTreeSet<QueueKey>,
    normal: BTreeSet<QueueKey>,
}

/// The tickets waiting for a window, each in exactly one ordered queue: its service's green or
/// normal queue, or the queue of the window it was transferred to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    by_service: BTreeMap<ServiceCode, ServiceQueue>,
    pinned: BTreeMap<WindowNumber, BTreeSet<QueueKey>>,
    /// How many windows are assigned each service: what [`Policy::Hub`] weighs between
    /// services whose oldest tickets are nearly tied. Kept up to date by the hall.
    windows_assigned: BTreeMap<ServiceCode, u32>,
}

impl Queues {
    /// Sets how many windows are assigned each service, forgetting services not listed.
    pub fn set_windows_assigned(&mut self, counts: BTreeMap<ServiceCode, u32>) {
        self.windows_assigned = counts;
    }

    pub fn push(&mut self, entry: &QueueEntry) {
        let key = entry.key();
        match entry.pinned_window {
            Some(window) => {
                self.pinned.entry(window).or_default().insert(key);
            }
            None => {
                let queue = self.by_service.entry(entry.service.clone()).or_default();
                if entry.green_channel {
                    queue.green.insert(key);
                } else {
                    queue.normal.insert(key);
                }
            }
        }
    }

    /// Removes the entry; returns whether it was queued.
    pub fn remove(&mut self, entry: &QueueEntry) -> bool {
        let key = entry.key();
        match entry.pinned_window {
            Some(window) => self
                .pinned
                .get_mut(&window)
                .is_some_and(|queue| queue.remove(&key)),
            None => self
                .by_service
                .get_mut(&entry.service)
                .is_some_and(|queue| {
                    if entry.green_channel {
                        queue.green.remove(&key)
                    } else {
                        queue.normal.remove(&key)
                    }
                }),
        }
    }

    /// How many tickets wait in a service's queue (not counting tickets pinned to a window).
    pub fn waiting_for_service(&self, service: &ServiceCode) -> usize {
        self.by_service
            .get(service)
            .map_or(0, |queue| queue.green.len() + queue.normal.len())
    }

    /// How many tickets were transferred to this window and wait for it.
    pub fn pinned_to(&self, window: WindowNumber) -> usize {
        self.pinned.get(&window).map_or(0, BTreeSet::len)
    }

    pub fn len(&self) -> usize {
        let in_services: usize = self
            .by_service
            .values()
            .map(|queue| queue.green.len() + queue.normal.len())
            .sum();
        in_services + self.pinned.values().map(BTreeSet::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tickets of a service's queue come before the waiting ticket with queue key
    /// `key` (green channel first, then normal); `None` if it is not in that queue. Takes time
    /// in proportion to the shorter side of the ticket, so asking about a ticket just issued
    /// (the last of its queue) costs next to nothing however long the queue.
    pub fn ahead_in_service(
        &self,
        service: &ServiceCode,
        green_channel: bool,
        key: (Millis, TicketId),
    ) -> Option<usize> {
        let queue = self.by_service.get(service)?;
        let (set, before_set) = match green_channel {
            true => (&queue.green, 0),
            false => (&queue.normal, queue.green.len()),
        };
        if !set.contains(&key) {
            return None;
        }
        let mut before = set.range(..key);
        let mut from = set.range(key..);
        let mut steps = 0;
        loop {
            if before.next().is_none() {
                return Some(before_set + steps);
            }
            if from.next().is_none() {
                return Some(before_set + set.len() - steps);
            }
            steps += 1;
        }
    }

    /// The tickets of one service's queue in calling order: green channel first, then normal,
    /// each oldest first.
    pub fn service_order(&self, service: &ServiceCode) -> impl Iterator<Item = TicketId> + '_ {
        self.by_service.get(service).into_iter().flat_map(|queue| {
            queue
                .green
                .iter()
                .chain(queue.normal.iter())
                .map(|&(_, id)| id)
        })
    }

    /// A service's normal tickets waiting per window assigned it, as a fraction (numerator,
    /// denominator) so that comparing two needs no rounding.
    fn backlog_per_window(&self, service: &ServiceCode) -> (u64, u64) {
        let waiting = self
            .by_service
            .get(service)
            .map_or(0, |queue| queue.normal.len()) as u64;
        let windows = self.windows_assigned.get(service).copied().unwrap_or(1);
        (waiting, u64::from(windows.max(1)))
    }

    fn oldest(&self, services: &[ServiceCode], class: Class) -> Option<QueueKey> {
        services
            .iter()
            .filter_map(|code| self.by_service.get(code))
            .filter_map(|queue| class(queue).first().copied())
            .min()
    }

    /// The hub's pick among normal tickets: the oldest, unless another of the window's
    /// services has a head ticket issued at most [`NEAR_TIE_MS`] later and more tickets
    /// waiting per window assigned it (on equal backlogs: the older).
    fn oldest_or_near_tie_by_backlog(
        &self,
        services: &[ServiceCode],
        class: Class,
    ) -> Option<QueueKey> {
        let oldest = self.oldest(services, class)?;
        let mut best: Option<(QueueKey, (u64, u64))> = None;
        for code in services {
            let Some(&head) = self.by_service.get(code).and_then(|q| class(q).first()) else {
                continue;
            };
            if head.0 > oldest.0.plus_ms(NEAR_TIE_MS) {
                continue;
            }
            let backlog = self.backlog_per_window(code);
            let better = match best {
                None => true,
                Some((key, (n, d))) => {
                    let (bn, bd) = backlog;
                    // bn/bd > n/d, or equal and older.
                    let lhs = bn * d;
                    let rhs = n * bd;
                    lhs > rhs || (lhs == rhs && head < key)
                }
            };
            if better {
                best = Some((head, backlog));
            }
        }
        best.map(|(key, _)| key)
    }

    /// The oldest ticket of a class in the first service (the window's primary one), or if
    /// that queue is empty the oldest among the other services.
    fn primary_then_oldest(&self, services: &[ServiceCode], class: Class) -> Option<QueueKey> {
        let (primary, others) = services.split_first()?;
        self.oldest(std::slice::from_ref(primary), class)
            .or_else(|| self.oldest(others, class))
    }
}

/// A rule for which ticket a window calls next. Every rule calls tickets transferred to the
/// window first and the green channel before normal tickets, with the same starvation guard;
/// they differ in how they pick among the window's services.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Policy {
    /// The rule the hub runs: see the module documentation.
    #[default]
    Hub,
    /// The oldest ticket among the window's services (first come, first served): the fixed
    /// reference the hub's rule is measured against.
    OldestFirst,
    /// The window's primary service (its first) before its other services: the oldest ticket
    /// of the primary queue, and the oldest of the others only when that queue is empty.
    PrimaryFirst,
}

impl Policy {
    /// The ticket this rule gives the calling window, if any.
    pub fn choose(self, queues: &Queues, caller: Caller<'_>) -> Option<Choice> {
        match self {
            Policy::Hub => choose_by(
                queues,
                caller,
                Queues::oldest,
                Queues::oldest_or_near_tie_by_backlog,
            ),
            Policy::OldestFirst => choose_by(queues, caller, Queues::oldest, Queues::oldest),
            Policy::PrimaryFirst => choose_by(
                queues,
                caller,
                Queues::primary_then_oldest,
                Queues::primary_then_oldest,
            ),
        }
    }
}

/// The window asking for its next ticket.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub window: WindowNumber,
    pub services: &'a [ServiceCode],
    pub consecutive_green: u32,
}

/// The ticket a window gets, and whether it is a green-channel call (for the streak count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub id: TicketId,
    pub green_channel: bool,
}

/// The hub's call-next policy ([`Policy::Hub`]): see the module documentation.
pub fn choose(queues: &Queues, caller: Caller<'_>) -> Option<Choice> {
    Policy::Hub.choose(queues, caller)
}

type Pick = fn(&Queues, &[ServiceCode], Class) -> Option<QueueKey>;

/// Transferred tickets first, then green channel with the starvation guard, each class's
/// candidate found among the window's services by `pick_green` and `pick_normal`.
fn choose_by(
    queues: &Queues,
    caller: Caller<'_>,
    pick_green: Pick,
    pick_normal: Pick,
) -> Option<Choice> {
    if let Some(&(_, id)) = queues.pinned.get(&caller.window).and_then(BTreeSet::first) {
        return Some(Choice {
            id,
            green_channel: false,
        });
    }
    let green = pick_green(queues, caller.services, |queue| &queue.green);
    let normal = pick_normal(queues, caller.services, |queue| &queue.normal);
    let pick_normal = match (green, normal) {
        (None, None) => return None,
        (None, Some(_)) => true,
        (Some(_), None) => false,
        (Some(green), Some(normal)) => {
            // The guard weighs the longest-waiting normal ticket, whichever normal ticket the
            // rule would pick.
            let longest = queues
                .oldest(caller.services, |queue| &queue.normal)
                .map_or(normal, |oldest| oldest.min(normal));
            caller.consecutive_green >= GREEN_STREAK_LIMIT && longest < green
        }
    };
    let ((_, id), green_channel) = if pick_normal {
        (normal?, false)
    } else {
        (green?, true)
    };
    Some(Choice { id, green_channel })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ServiceCode {
        ServiceCode::parse(text).unwrap()
    }

    fn entry(id: u64, minute: i64, service: &str, green: bool) -> QueueEntry {
        QueueEntry {
            id: TicketId(id),
            queued_at: Millis(minute * Millis::MINUTE),
            service: code(service),
            green_channel: green,
            pinned_window: None,
        }
    }

    fn caller(services: &[ServiceCode], streak: u32) -> Caller<'_> {
        Caller {
            window: WindowNumber::new(1).unwrap(),
            services,
            consecutive_green: streak,
        }
    }

    #[test]
    fn oldest_across_the_windows_services() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 5, "id_card", false));
        queues.push(&entry(2, 3, "hukou", false));
        queues.push(&entry(3, 1, "vehicle", false));
        let services = [code("hukou"), code("id_card")];
        assert_eq!(
            choose(&queues, caller(&services, 0)).unwrap().id,
            TicketId(2)
        );
    }

    #[test]
    fn green_channel_first_until_the_streak_guard() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 1, "hukou", false));
        queues.push(&entry(2, 2, "hukou", true));
        let services = [code("hukou")];
        let first = choose(&queues, caller(&services, 0)).unwrap();
        assert_eq!(
            first,
            Choice {
                id: TicketId(2),
                green_channel: true
            }
        );
        assert_eq!(
            choose(&queues, caller(&services, 1)).unwrap().id,
            TicketId(2)
        );
        // Two green calls in a row: the normal ticket that waited longer goes next.
        assert_eq!(
            choose(&queues, caller(&services, 2)).unwrap().id,
            TicketId(1)
        );
    }

    #[test]
    fn the_guard_lets_green_go_first_when_it_waited_longer() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 1, "hukou", true));
        queues.push(&entry(2, 2, "hukou", false));
        let services = [code("hukou")];
        assert_eq!(
            choose(&queues, caller(&services, 5)).unwrap().id,
            TicketId(1)
        );
    }

    #[test]
    fn a_ticket_pinned_to_the_window_goes_first() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 1, "hukou", true));
        let mut pinned = entry(2, 9, "vehicle", false);
        pinned.pinned_window = Some(WindowNumber::new(1).unwrap());
        queues.push(&pinned);
        let services = [code("hukou")];
        assert_eq!(
            choose(&queues, caller(&services, 0)).unwrap().id,
            TicketId(2)
        );
        let other = Caller {
            window: WindowNumber::new(2).unwrap(),
            ..caller(&services, 0)
        };
        assert_eq!(choose(&queues, other).unwrap().id, TicketId(1));
        assert!(queues.remove(&pinned));
        assert!(!queues.remove(&pinned));
        assert_eq!(queues.len(), 1);
    }

    #[test]
    fn primary_first_prefers_the_primary_queue_within_each_class() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 1, "id_card", false));
        queues.push(&entry(2, 2, "hukou", false));
        let services = [code("hukou"), code("id_card")];
        let caller = caller(&services, 0);
        assert_eq!(Policy::Hub.choose(&queues, caller).unwrap().id, TicketId(1));
        assert_eq!(
            Policy::OldestFirst.choose(&queues, caller).unwrap().id,
            TicketId(1)
        );
        assert_eq!(
            Policy::PrimaryFirst.choose(&queues, caller).unwrap().id,
            TicketId(2)
        );
        // The green channel still goes first, even of a secondary service.
        queues.push(&entry(3, 3, "id_card", true));
        assert_eq!(
            Policy::PrimaryFirst.choose(&queues, caller).unwrap().id,
            TicketId(3)
        );
        // With the primary queue empty, the other services' oldest ticket.
        assert!(queues.remove(&entry(2, 2, "hukou", false)));
        assert!(queues.remove(&entry(3, 3, "id_card", true)));
        assert_eq!(
            Policy::PrimaryFirst.choose(&queues, caller).unwrap().id,
            TicketId(1)
        );
    }

    #[test]
    fn nothing_for_a_window_without_matching_tickets() {
        let mut queues = Queues::default();
        queues.push(&entry(1, 1, "vehicle", false));
        let services = [code("hukou")];
        assert_eq!(choose(&queues, caller(&services, 0)), None);
        assert_eq!(choose(&queues, caller(&[], 0)), None);
    }

    #[test]
    fn ahead_in_service_counts_what_the_calling_order_puts_before_a_ticket() {
        let mut queues = Queues::default();
        let entries: Vec<QueueEntry> = (1..=41)
            .map(|id| entry(id, (id as i64 * 7) % 13, "hukou", id % 5 == 0))
            .chain([entry(42, 2, "id_card", false)])
            .collect();
        for e in &entries {
            queues.push(e);
        }
        let order: Vec<TicketId> = queues.service_order(&code("hukou")).collect();
        for e in &entries[..41] {
            let expected = order.iter().position(|&id| id == e.id).unwrap();
            assert_eq!(
                queues.ahead_in_service(&e.service, e.green_channel, e.key()),
                Some(expected),
                "ticket {:?}",
                e.id
            );
        }
        let other = &entries[41];
        assert_eq!(
            queues.ahead_in_service(&code("hukou"), false, other.key()),
            None
        );
        assert_eq!(
            queues.ahead_in_service(&code("hukou"), true, entries[10].key()),
            None,
            "a normal ticket is not in the green queue"
        );
    }
}

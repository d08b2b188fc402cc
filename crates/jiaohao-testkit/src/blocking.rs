//! The test hub for tests that are not async (the kiosk's and the display's egui tests): it
//! owns its runtime, and its helpers wait for their answers.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use jiaohao_client::Client;
use jiaohao_hub::limits::LimitConfig;
use jiaohao_wire as wire;

use crate::{MORNING, TestHub};

/// How long a test waits for a device's report to reach the hub (the kiosk reports from its
/// own thread, after it gave up printing).
const DEVICE_PROBLEM_WAIT: Duration = Duration::from_secs(10);

/// A [`TestHub`] with its own runtime, stopped when dropped. It runs with the hub's default
/// limits, as a hall does: the kiosk and the display meet them as they would there.
pub struct BlockingHub {
    pub runtime: tokio::runtime::Runtime,
    hub: TestHub,
}

impl Deref for BlockingHub {
    type Target = TestHub;

    fn deref(&self) -> &TestHub {
        &self.hub
    }
}

impl DerefMut for BlockingHub {
    fn deref_mut(&mut self) -> &mut TestHub {
        &mut self.hub
    }
}

impl BlockingHub {
    /// The default hall on a fresh database at 09:00 on a weekday.
    pub fn start() -> BlockingHub {
        BlockingHub::start_at(MORNING)
    }

    /// The default hall on a fresh database with the clock at `instant`.
    pub fn start_at(instant: &str) -> BlockingHub {
        BlockingHub::start_at_with(instant, |_| {})
    }

    /// As [`BlockingHub::start_at`], with the configuration changed by `adjust` (after the
    /// default limits are set), such as `green_channel_age`.
    pub fn start_at_with(
        instant: &str,
        adjust: impl Fn(&mut jiaohao_hub::HubConfig) + Send + Sync + 'static,
    ) -> BlockingHub {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let hub = runtime.block_on(TestHub::start_at_with(instant, move |config| {
            config.limits = LimitConfig::default();
            adjust(config);
        }));
        BlockingHub { runtime, hub }
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Stops the hub gracefully (its event streams end, its port closes).
    pub fn stop(&mut self) {
        self.runtime.block_on(self.hub.halt());
    }

    /// Starts the hub again on the same database and the same port.
    pub fn start_again(&mut self) {
        self.runtime.block_on(self.hub.start_again());
    }

    /// A standby of this hub on any free port (see [`TestHub::start_standby`]).
    pub fn start_standby(&self) -> jiaohao_hub::RunningHub {
        self.block_on(self.hub.start_standby("127.0.0.1:0"))
    }

    /// A client without a token, on the hub's address.
    pub fn client(&self) -> Client {
        Client::new(self.url())
    }

    /// The hall as `GET /api/hall` shows it.
    pub fn hall(&self) -> wire::HallView {
        self.block_on(self.hub.hall())
    }

    /// Tickets of `service` issued today, as the hub counts them.
    pub fn issued_today(&self, service: &str) -> u32 {
        self.hall()
            .services
            .iter()
            .find(|s| s.def.code == service)
            .unwrap_or_else(|| panic!("no service {service}"))
            .issued_today
    }

    /// The problems devices reported, newest first, as the admin reads them.
    pub fn device_problems(&self) -> Vec<wire::DeviceProblem> {
        self.block_on(self.admin.device_problems())
            .expect("GET /api/devices/problems")
    }

    /// Waits until the hub holds at least `count` device problems (no event announces them),
    /// failing after ten seconds; returns them, newest first.
    #[track_caller]
    pub fn wait_for_device_problems(&self, count: usize) -> Vec<wire::DeviceProblem> {
        let limit = DEVICE_PROBLEM_WAIT;
        let start = Instant::now();
        loop {
            let problems = self.device_problems();
            if problems.len() >= count {
                return problems;
            }
            if start.elapsed() > limit {
                panic!("the hub holds {problems:?}, not {count} device problems, after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Issues a ticket from the kiosk.
    pub fn issue(&self, service: &str) -> wire::IssuedTicket {
        self.block_on(self.hub.issue(service))
    }

    /// Acts on a window as an admin: `open`, `close` or `resume`.
    pub fn window(&self, window: u16, action: &str) -> wire::WindowStatus {
        self.block_on(self.admin.window_action(window, action))
            .unwrap_or_else(|e| panic!("{action} window {window}: {e}"))
    }

    pub fn pause(&self, window: u16, reason: &str) -> wire::WindowStatus {
        self.block_on(self.admin.pause(window, reason))
            .unwrap_or_else(|e| panic!("pausing window {window}: {e}"))
    }

    /// Calls the next ticket to a window as an admin; fails if nothing waits.
    pub fn call_next(&self, window: u16) -> wire::TicketDetail {
        self.block_on(self.hub.call_next(window))
    }

    pub fn finish(&self, window: u16) -> wire::TicketDetail {
        self.block_on(self.admin.ticket_action(window, "finish"))
            .unwrap_or_else(|e| panic!("finish at window {window}: {e}"))
    }

    pub fn recall(&self, window: u16) -> wire::TicketDetail {
        self.block_on(self.admin.ticket_action(window, "recall"))
            .unwrap_or_else(|e| panic!("recall at window {window}: {e}"))
    }
}

impl Drop for BlockingHub {
    fn drop(&mut self) {
        self.stop();
    }
}

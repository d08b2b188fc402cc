//! [`HubLink`]: a background thread with its own runtime that follows the hub's event stream
//! (snapshot, then changes), reconnects by itself with a backoff of up to 5 s, resumes with
//! `Last-Event-ID`, moves to a newly promoted primary within [`PRIMARY_CHECK`] when it
//! knows several hubs, and wakes the UI through a callback. The UI reads the latest state without
//! waiting and takes the changes (calls to announce, …) from a queue, in order. The hall's
//! clock comes with each snapshot; [`HubLink::hall_now`] extrapolates from it, so the UI shows
//! the hall's time, not its machine's.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiaohao_client::{Client, HallTime, PRIMARY_CHECK};
use jiaohao_wire::{ChangeMessage, HallView, TimedHallView};

const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why a stream was left on purpose: another hub is the primary now.
const MOVED: &str = "moved to the primary";

/// How the link stands, for the UI to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Not yet connected since start.
    Connecting,
    Live,
    /// The connection was lost; retrying. The hall shown is from before.
    Reconnecting {
        error: String,
    },
}

#[derive(Default)]
struct Shared {
    hall: Option<HallView>,
    /// The hall's clock from the latest snapshot (`None` from a hub older than the clock).
    time: Option<HallTime>,
    status: Option<LinkStatus>,
    changes: VecDeque<ChangeMessage>,
}

/// The live link to the hub. Cheap to clone.
#[derive(Clone)]
pub struct HubLink {
    client: Client,
    shared: Arc<Mutex<Shared>>,
    runtime: tokio::runtime::Handle,
}

impl HubLink {
    /// Starts following the hub at `client`'s base URL; `wake` is called (from the link's
    /// thread) after every change, typically `ctx.request_repaint()`.
    pub fn start(
        client: Client,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> std::io::Result<HubLink> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("jiaohao-link")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let follower = follow(client.clone(), shared.clone(), Arc::new(wake));
        std::thread::Builder::new()
            .name("jiaohao-link".into())
            .spawn(move || runtime.block_on(follower))?;
        Ok(HubLink {
            client,
            shared,
            runtime: handle,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The latest hall, if one arrived since start.
    pub fn hall(&self) -> Option<HallView> {
        self.lock().hall.clone()
    }

    pub fn status(&self) -> LinkStatus {
        self.lock().status.clone().unwrap_or(LinkStatus::Connecting)
    }

    /// The hall's clock as last read from the hub, if one was.
    pub fn hall_time(&self) -> Option<HallTime> {
        self.lock().time
    }

    /// The hall's time now: extrapolated from the hub's clock, or the machine's own before the
    /// first snapshot (or from a hub that sends no clock).
    pub fn hall_now(&self) -> jiff::Timestamp {
        self.hall_time()
            .map_or_else(jiff::Timestamp::now, |time| time.now())
    }

    /// Takes every change received since the last call, oldest first.
    pub fn take_changes(&self) -> Vec<ChangeMessage> {
        self.lock().changes.drain(..).collect()
    }

    /// Runs a request on the link's runtime, off the UI thread.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Follows the stream forever, reconnecting with a growing backoff.
async fn follow(client: Client, shared: Arc<Mutex<Shared>>, wake: Arc<dyn Fn() + Send + Sync>) {
    let mut last_id: Option<u64> = None;
    let mut backoff = Duration::from_millis(250);
    loop {
        // With several hubs, the stream's hub is asked now and then whether it is still the
        // primary of the highest term: a promotion elsewhere breaks no stream.
        let mut next_check = tokio::time::Instant::now() + PRIMARY_CHECK;
        let error = match client.events(last_id).await {
            Ok(mut stream) => loop {
                let next = tokio::select! {
                    next = stream.next() => next,
                    () = tokio::time::sleep_until(next_check), if client.has_several_hubs() => {
                        if client.find_primary().await {
                            break MOVED.to_owned();
                        }
                        next_check = tokio::time::Instant::now() + PRIMARY_CHECK;
                        continue;
                    }
                };
                match next {
                    Ok(Some(event)) => {
                        backoff = Duration::from_millis(250);
                        if let Some(id) = event.id {
                            last_id = Some(id);
                        }
                        let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                        state.status = Some(LinkStatus::Live);
                        match event.event.as_str() {
                            // A snapshot (and the view that opens a resumed stream) is made
                            // when it is sent, with the hall's clock of that moment.
                            "snapshot" | "hall_changed" => {
                                if let Ok(timed) = event.json::<TimedHallView>() {
                                    if let Some(time) =
                                        timed.clock.as_ref().and_then(HallTime::from_wire)
                                    {
                                        state.time = Some(time);
                                    }
                                    state.hall = Some(timed.view);
                                }
                            }
                            _ => {
                                if let Ok(change) = event.json::<ChangeMessage>() {
                                    state.changes.push_back(change);
                                    // A UI that never takes changes must not grow without bound.
                                    while state.changes.len() > 1000 {
                                        state.changes.pop_front();
                                    }
                                }
                            }
                        }
                        drop(state);
                        wake();
                    }
                    Ok(None) => break "the hub closed the stream".to_owned(),
                    Err(error) => break error.to_string(),
                }
            },
            Err(error) => error.to_string(),
        };
        if error == MOVED {
            // The hall shown stays until the new primary's stream resumes it.
            tracing::info!(hub = %client.base(), "moved to the hall's primary hub");
            backoff = Duration::from_millis(250);
            continue;
        }
        tracing::warn!(%error, "lost the hub's event stream; reconnecting");
        shared.lock().unwrap_or_else(|e| e.into_inner()).status =
            Some(LinkStatus::Reconnecting { error });
        wake();
        // With two hubs (`--hub URL1,URL2`), a promoted standby is the primary now: move to
        // it (every request of the app moves too) and resume its stream where this one
        // stopped (its log is numbered as the old primary's).
        if client.find_primary().await {
            tracing::info!(hub = %client.base(), "moved to the hall's primary hub");
            backoff = Duration::from_millis(250);
            continue;
        }
        tokio::time::sleep(backoff).await;
        // With two hubs the pause stays short: a promotion is found by the next attempt.
        let longest = if client.has_several_hubs() {
            PRIMARY_CHECK
        } else {
            MAX_BACKOFF
        };
        backoff = (backoff * 2).min(longest);
    }
}

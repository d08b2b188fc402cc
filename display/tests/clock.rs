//! The display shows the hall's clock, not the machine's: the hub's clock (here a test clock
//! standing at an afternoon of 2026, far from the machine's time) reaches it with the stream's
//! snapshot, so a simulated day reads as one day on the wall.

use crate::support::{LANDSCAPE, TestHub, hall_config, harness, wait_for_text};
use jiaohao_display::DisplayApp;

#[test]
fn the_display_shows_the_halls_clock_not_the_machines() {
    let mut hub = TestHub::start();
    hub.clock
        .set("2026-11-23T14:42:00+08:00".parse().expect("an instant"));
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "实时 Live");
    wait_for_text(&mut display, "14:42");
    wait_for_text(&mut display, "11月23日 星期一");
    wait_for_text(&mut display, "Mon 23 Nov");

    // The hall's clock moves (a simulated day goes on); a display that connects anew reads it.
    hub.stop();
    hub.clock
        .set("2026-11-24T16:05:00+08:00".parse().expect("an instant"));
    hub.start_again();
    wait_for_text(&mut display, "16:05");
    wait_for_text(&mut display, "11月24日 星期二");
}

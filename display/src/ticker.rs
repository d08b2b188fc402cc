//! The notice ticker's motion. Every frame of a 1920×1080 screen costs tens of milliseconds
//! of CPU when rendered in software (measured: ~50 ms under Xvfb with Mesa's llvmpipe), so a
//! ticker that scrolls all day would keep half a core busy. The ticker therefore scrolls while
//! the hall is busy and turns pages while it is quiet: it stops on a word boundary, shows that
//! page for [`PAGE_SECS`], and moves on, one frame per page.

use std::time::Duration;

use egui::Galley;

/// When the ticker scrolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TickerMode {
    /// Scroll while the hall is busy (a change in the last minute), turn pages when quiet.
    #[default]
    Auto,
    /// Always scroll (ten steps a second).
    Scroll,
    /// Always turn pages: one frame every few seconds, for machines without a GPU.
    Page,
}

/// Scrolling speed, in design points per second.
pub const SCROLL_SPEED: f32 = 80.0;
/// Scrolling moves in steps this far apart.
pub const SCROLL_STEP: Duration = Duration::from_millis(100);
/// How long a page stays when the ticker turns pages.
pub const PAGE_SECS: f64 = 8.0;
/// In `auto` mode, the ticker scrolls for this long after the hall last changed.
pub const BUSY_SECS: f64 = 60.0;

/// Where to draw the notice line this frame, relative to the lane's left edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// x of the line's start (negative once it has moved left).
    pub x: f32,
    /// Draw the line again this far after the first, for a seamless loop.
    pub repeat: Option<f32>,
    /// Clip at this x (a page ends before a word it would cut).
    pub clip_right: f32,
}

/// The ticker's state from frame to frame.
#[derive(Debug, Default)]
pub struct Ticker {
    text: String,
    /// How far the line has moved left, in points.
    offset: f32,
    last_frame: Option<f64>,
    page_since: f64,
    /// Whether it scrolled in the last frame, and whether there is anything to move at all.
    scrolling: bool,
    movable: bool,
}

/// The x of each point where a page may start: the first glyph, each glyph after a space, and
/// every Chinese character (each is a word for wrapping purposes).
fn word_starts(galley: &Galley) -> Vec<f32> {
    let Some(row) = galley.rows.first() else {
        return vec![0.0];
    };
    let mut starts = Vec::new();
    let mut previous: Option<char> = None;
    for glyph in &row.glyphs {
        let c = glyph.chr;
        let start = match previous {
            None => true,
            Some(p) => (p.is_whitespace() || !p.is_ascii() || !c.is_ascii()) && !c.is_whitespace(),
        };
        if start {
            starts.push(row.pos.x + glyph.pos.x);
        }
        previous = Some(c);
    }
    if starts.is_empty() {
        starts.push(0.0);
    }
    starts
}

impl Ticker {
    /// Moves the ticker for a frame at `now` (egui seconds) and says where to draw `galley`,
    /// the whole notice line, in a lane `lane_width` wide. `scroll` says whether to scroll
    /// (else pages are turned); `scale` is the screen's design scale.
    pub fn place(
        &mut self,
        text: &str,
        galley: &Galley,
        lane_width: f32,
        now: f64,
        scroll: bool,
        scale: f32,
    ) -> Placement {
        let changed = self.text != text;
        if changed && self.text.is_empty() {
            *self = Ticker {
                text: text.to_owned(),
                page_since: now,
                ..Ticker::default()
            };
        } else if changed {
            // The line's figures change as the hall works: the ticker goes on from where it
            // was (from the word there), not from the start, or a busy hall's ticker would
            // never reach the end of its line.
            self.text = text.to_owned();
        }
        let width = galley.size().x;
        let elapsed = self.last_frame.map_or(0.0, |last| (now - last).max(0.0));
        self.last_frame = Some(now);
        self.movable = width > lane_width;
        if !self.movable {
            self.offset = 0.0;
            self.scrolling = false;
            return Placement {
                x: 0.0,
                repeat: None,
                clip_right: lane_width,
            };
        }
        let cycle = width + lane_width * 0.3;
        if scroll {
            self.offset = (self.offset + SCROLL_SPEED * scale * elapsed as f32).rem_euclid(cycle);
            self.scrolling = true;
            return Placement {
                x: -self.offset,
                repeat: Some(cycle),
                clip_right: lane_width,
            };
        }
        let starts = word_starts(galley);
        if changed && !self.scrolling {
            self.offset = starts
                .iter()
                .copied()
                .rev()
                .find(|&x| x <= self.offset)
                .filter(|&x| x < width)
                .unwrap_or(0.0);
        }
        if self.scrolling {
            // Stopped scrolling: rest on the next word, or on the start after the end.
            self.offset = starts
                .iter()
                .copied()
                .find(|&x| x >= self.offset)
                .filter(|&x| x < width)
                .unwrap_or(0.0);
            self.scrolling = false;
            self.page_since = now;
        }
        let page_end = |offset: f32| {
            starts
                .iter()
                .copied()
                .rev()
                .find(|&x| x > offset && x <= offset + lane_width)
                .filter(|_| offset + lane_width < width)
                .unwrap_or(width)
        };
        if now - self.page_since >= PAGE_SECS {
            let end = page_end(self.offset);
            self.offset = if end >= width { 0.0 } else { end };
            self.page_since = now;
        }
        let end = page_end(self.offset);
        Placement {
            x: -self.offset,
            repeat: None,
            clip_right: (end - self.offset).min(lane_width),
        }
    }

    /// When the ticker next needs a frame, if it will move at all.
    pub fn next_frame(&self, now: f64) -> Option<Duration> {
        if !self.movable {
            return None;
        }
        if self.scrolling {
            return Some(SCROLL_STEP);
        }
        let due = (self.page_since + PAGE_SECS - now).max(0.001);
        Some(Duration::from_secs_f64(due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Color32, FontId};

    /// A context with its fonts loaded (after one pass).
    fn context() -> egui::Context {
        let ctx = egui::Context::default();
        let mut output = ctx.run_ui(Default::default(), |_| {});
        output.textures_delta.clear();
        ctx
    }

    fn galley(ctx: &egui::Context, text: &str) -> std::sync::Arc<Galley> {
        ctx.fonts_mut(|fonts| {
            fonts.layout_no_wrap(text.to_owned(), FontId::proportional(20.0), Color32::WHITE)
        })
    }

    fn line(served: u32) -> String {
        format!(
            "today served {served} citizens; bring your ID card; keep your ticket; thank you for waiting"
        )
    }

    #[test]
    fn a_changed_figure_does_not_send_the_scrolling_ticker_back_to_the_start() {
        let ctx = context();
        let mut ticker = Ticker::default();
        let first = line(10);
        let lane = 200.0;
        ticker.place(&first, &galley(&ctx, &first), lane, 0.0, true, 1.0);
        let moved = ticker.place(&first, &galley(&ctx, &first), lane, 2.0, true, 1.0);
        assert!(moved.x < -100.0, "{moved:?}");
        let second = line(11);
        let after = ticker.place(&second, &galley(&ctx, &second), lane, 2.1, true, 1.0);
        assert!(after.x < moved.x, "it goes on: {moved:?} then {after:?}");
    }

    #[test]
    fn a_changed_figure_keeps_the_page_the_ticker_shows() {
        let ctx = context();
        let mut ticker = Ticker::default();
        let first = line(10);
        let lane = 200.0;
        ticker.place(&first, &galley(&ctx, &first), lane, 0.0, false, 1.0);
        let second_page = ticker.place(&first, &galley(&ctx, &first), lane, PAGE_SECS, false, 1.0);
        assert!(second_page.x < 0.0, "the page turned: {second_page:?}");
        let changed = line(11);
        let same_page = ticker.place(
            &changed,
            &galley(&ctx, &changed),
            lane,
            PAGE_SECS + 1.0,
            false,
            1.0,
        );
        assert!(same_page.x < 0.0, "still on the later page: {same_page:?}");
        assert!(
            (same_page.x - second_page.x).abs() < 20.0,
            "{second_page:?} then {same_page:?}"
        );
        // A new line altogether (the first) starts at its beginning.
        let mut fresh = Ticker::default();
        let start = fresh.place(&changed, &galley(&ctx, &changed), lane, 50.0, false, 1.0);
        assert_eq!(start.x, 0.0);
    }
}

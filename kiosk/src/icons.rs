//! Simple line icons for the services, drawn in code so they scale with the elderly mode and
//! need no image files: a house for household registration, a card for ID cards, a car for
//! vehicles, a traffic light for violations, a plane for exit-entry, a building with a key for
//! residence permits, and a document for anything else. No emblems or badges (UI.md).

use std::f32::consts::FRAC_1_SQRT_2;

use egui::{Painter, Pos2, Rect, Stroke, StrokeKind, Vec2, pos2, vec2};

/// Draws the icon of service `code` inside `rect` with lines of `color`.
pub fn paint(painter: &Painter, code: &str, rect: Rect, color: egui::Color32) {
    let side = rect.width().min(rect.height());
    let rect = Rect::from_center_size(rect.center(), Vec2::splat(side));
    let stroke = Stroke::new((side / 18.0).max(2.0), color);
    // Coordinates below are on a 0..1 square.
    let p = |x: f32, y: f32| pos2(rect.left() + x * side, rect.top() + y * side);
    let r = |x0: f32, y0: f32, x1: f32, y1: f32| Rect::from_min_max(p(x0, y0), p(x1, y1));
    let line = |points: &[Pos2]| {
        painter.line(points.to_vec(), stroke);
    };
    let radius = side * 0.04;
    match code {
        "hukou" => {
            // A house with a door and a window.
            line(&[p(0.1, 0.48), p(0.5, 0.12), p(0.9, 0.48)]);
            line(&[p(0.2, 0.4), p(0.2, 0.88), p(0.8, 0.88), p(0.8, 0.4)]);
            painter.rect_stroke(r(0.42, 0.6, 0.58, 0.88), 0.0, stroke, StrokeKind::Middle);
            painter.rect_stroke(r(0.28, 0.5, 0.38, 0.6), 0.0, stroke, StrokeKind::Middle);
        }
        "id_card" => {
            // A card with a portrait and three lines of text.
            painter.rect_stroke(
                r(0.08, 0.22, 0.92, 0.78),
                radius,
                stroke,
                StrokeKind::Middle,
            );
            painter.circle_stroke(p(0.3, 0.42), side * 0.08, stroke);
            line(&[p(0.17, 0.66), p(0.22, 0.56), p(0.38, 0.56), p(0.43, 0.66)]);
            line(&[p(0.54, 0.38), p(0.82, 0.38)]);
            line(&[p(0.54, 0.5), p(0.82, 0.5)]);
            line(&[p(0.54, 0.62), p(0.74, 0.62)]);
        }
        "vehicle" => {
            // A car seen from the side.
            line(&[
                p(0.08, 0.66),
                p(0.08, 0.5),
                p(0.22, 0.46),
                p(0.34, 0.3),
                p(0.66, 0.3),
                p(0.78, 0.46),
                p(0.92, 0.5),
                p(0.92, 0.66),
                p(0.8, 0.66),
            ]);
            line(&[p(0.36, 0.66), p(0.64, 0.66)]);
            line(&[p(0.2, 0.66), p(0.08, 0.66)]);
            line(&[p(0.24, 0.46), p(0.76, 0.46)]);
            line(&[p(0.5, 0.3), p(0.5, 0.46)]);
            painter.circle_stroke(p(0.28, 0.68), side * 0.08, stroke);
            painter.circle_stroke(p(0.72, 0.68), side * 0.08, stroke);
        }
        "violation" => {
            // A traffic light on a post.
            painter.rect_stroke(
                r(0.34, 0.06, 0.66, 0.72),
                side * 0.08,
                stroke,
                StrokeKind::Middle,
            );
            for y in [0.19, 0.39, 0.59] {
                painter.circle_stroke(p(0.5, y), side * 0.07, stroke);
            }
            line(&[p(0.5, 0.72), p(0.5, 0.94)]);
            line(&[p(0.36, 0.94), p(0.64, 0.94)]);
        }
        "exit_entry" => {
            // An aeroplane seen from above, flying up and to the right.
            let centre = p(0.5, 0.5);
            let dir = vec2(FRAC_1_SQRT_2, -FRAC_1_SQRT_2);
            let across = vec2(FRAC_1_SQRT_2, FRAC_1_SQRT_2);
            let at = |along: f32, side_off: f32| centre + (dir * along + across * side_off) * side;
            line(&[at(-0.4, 0.0), at(0.4, 0.0)]);
            line(&[
                at(0.05, 0.0),
                at(-0.12, -0.36),
                at(-0.2, -0.36),
                at(-0.1, 0.0),
            ]);
            line(&[
                at(0.05, 0.0),
                at(-0.12, 0.36),
                at(-0.2, 0.36),
                at(-0.1, 0.0),
            ]);
            line(&[at(-0.3, 0.0), at(-0.4, -0.14)]);
            line(&[at(-0.3, 0.0), at(-0.4, 0.14)]);
        }
        "residence_permit" => {
            // An apartment block with a key.
            painter.rect_stroke(r(0.12, 0.14, 0.56, 0.9), 0.0, stroke, StrokeKind::Middle);
            for y in [0.3, 0.48, 0.66] {
                line(&[p(0.22, y), p(0.3, y)]);
                line(&[p(0.38, y), p(0.46, y)]);
            }
            painter.circle_stroke(p(0.74, 0.5), side * 0.1, stroke);
            line(&[p(0.74, 0.6), p(0.74, 0.9)]);
            line(&[p(0.74, 0.78), p(0.84, 0.78)]);
        }
        _ => {
            // A document with a folded corner.
            line(&[
                p(0.22, 0.08),
                p(0.62, 0.08),
                p(0.8, 0.26),
                p(0.8, 0.92),
                p(0.22, 0.92),
                p(0.22, 0.08),
            ]);
            line(&[p(0.62, 0.08), p(0.62, 0.26), p(0.8, 0.26)]);
            for y in [0.44, 0.58, 0.72] {
                line(&[p(0.34, y), p(0.68, y)]);
            }
        }
    }
}

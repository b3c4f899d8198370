//! The decision boundary of a 2-D dataset: the model's output over the input plane as a picture
//! behind the training points (and the test points), updating live.

use std::sync::Arc;

use egui::{Color32, ColorImage, TextureOptions, Ui};
use egui_plot::PlotPoint;

use super::heat::{self, CachedTexture};
use super::{View, ViewAction, ViewContext};
use crate::nn::predicted_class;
use crate::train::protocol::{PlaneOutputs, Probe, RunInfo, Snapshot};
use crate::ui::palette;

/// The model's output at the pointer.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundaryReadout {
    pub point: [f32; 2],
    /// The grid point nearest the pointer, and the outputs there.
    pub grid: [f32; 2],
    pub outputs: Vec<f32>,
}

pub struct BoundaryView {
    pub show_test: bool,
    pub discretize: bool,
    texture: CachedTexture<(usize, bool, bool)>,
    pub readout: Option<BoundaryReadout>,
    /// Where the last frame drew the plane.
    pub plot_rect: Option<egui::Rect>,
}

impl Default for BoundaryView {
    fn default() -> Self {
        Self {
            show_test: true,
            discretize: false,
            texture: CachedTexture::new("decision boundary"),
            readout: None,
            plot_rect: None,
        }
    }
}

/// The colour of the plane where the model outputs `outputs`.
fn region_color(outputs: &[f32], classes: usize, discretize: bool, dark: bool) -> Color32 {
    let class = predicted_class(ndarray::ArrayView1::from(outputs));
    let confidence = if outputs.len() == 1 {
        (2.0 * outputs[0] - 1.0).abs()
    } else {
        let k = outputs.len() as f32;
        (outputs.get(class).copied().unwrap_or(0.0) - 1.0 / k) / (1.0 - 1.0 / k)
    };
    let strength = if discretize {
        1.0
    } else {
        confidence.clamp(0.0, 1.0)
    };
    let color = palette::class_color(class, classes.max(outputs.len()));
    let background = if dark {
        Color32::from_gray(27)
    } else {
        Color32::WHITE
    };
    background.lerp_to_gamma(color, 0.12 + 0.5 * strength)
}

fn picture(
    plane: &PlaneOutputs,
    classes: usize,
    discretize: bool,
    dark: bool,
) -> Option<ColorImage> {
    let outputs = plane.layers.last()?;
    let n = plane.resolution;
    let pixels = outputs
        .rows()
        .into_iter()
        .map(|row| {
            region_color(
                row.as_slice().unwrap_or(&row.to_vec()),
                classes,
                discretize,
                dark,
            )
        })
        .collect();
    Some(ColorImage::new([n, n], pixels))
}

/// Adds a filled octagon-ish disc to `mesh`.
fn disc(mesh: &mut egui::Mesh, centre: egui::Pos2, radius: f32, color: Color32) {
    const SIDES: u32 = 10;
    let first = mesh.vertices.len() as u32;
    mesh.colored_vertex(centre, color);
    for k in 0..SIDES {
        let angle = std::f32::consts::TAU * k as f32 / SIDES as f32;
        mesh.colored_vertex(
            centre + radius * egui::vec2(angle.cos(), angle.sin()),
            color,
        );
    }
    for k in 0..SIDES {
        mesh.add_triangle(first, first + 1 + k, first + 1 + (k + 1) % SIDES);
    }
}

impl BoundaryView {
    /// Draws the view; returns the training point clicked, as a probe.
    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        snapshot: Option<&Arc<Snapshot>>,
    ) -> Option<Probe> {
        self.readout = None;
        let Some(info) = info else {
            ui.label("Waiting for the trainer...");
            return None;
        };
        let (Some(train), Some(snapshot)) = (info.train_points.as_ref(), snapshot) else {
            ui.label(format!(
                "The decision boundary needs a 2-D dataset; {} has {} inputs per sample.",
                info.dataset,
                info.input_shape.len()
            ));
            return None;
        };
        let Some(plane) = snapshot.plane.as_ref() else {
            ui.label("Waiting for the model's first pass over the plane...");
            return None;
        };
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.show_test, "Test points")
                .on_hover_text(
                    "Also show the test points (hollow), which the model never trains on",
                );
            ui.checkbox(&mut self.discretize, "Discretize")
                .on_hover_text("Colour each region by the predicted class only, not by confidence");
            ui.label(
                egui::RichText::new(
                    "filled: training points (click one to make it the probe); colour: predicted \
                     class, brighter = more confident",
                )
                .weak(),
            );
        });
        let dark = ui.visuals().dark_mode;
        let key = (snapshot.id as usize, self.discretize, dark);
        let discretize = self.discretize;
        let texture = self
            .texture
            .get(ui, key, TextureOptions::LINEAR, || {
                picture(plane, info.classes, discretize, dark)
                    .unwrap_or_else(|| ColorImage::filled([1, 1], Color32::TRANSPARENT))
            })
            .id();
        let (x, y) = (plane.x, plane.y);
        let space = ui.available_rect_before_wrap();
        let (rect, response) = ui.allocate_exact_size(space.size(), egui::Sense::click());
        let square = heat::fit(rect.shrink2(egui::vec2(24.0, 12.0)), 1.0, 1.0)
            .translate(egui::vec2(10.0, -6.0));
        self.plot_rect = Some(square);
        let painter = ui.painter_at(rect);
        painter.image(texture, square, super::weights::full_uv(), Color32::WHITE);
        let to_screen = |p: [f32; 2]| {
            egui::pos2(
                square.left() + (p[0] - x.0) / (x.1 - x.0) * square.width(),
                square.bottom() - (p[1] - y.0) / (y.1 - y.0) * square.height(),
            )
        };
        // the points as one mesh: thousands of them cost one shape
        let classes = info.classes.max(2);
        let radius = point_radius(square.width(), info.train_samples + info.test_samples)
            * palette::emphasis(ui.ctx());
        let mut mesh = egui::Mesh::default();
        let outline = if dark {
            Color32::from_gray(20)
        } else {
            Color32::WHITE
        };
        // a test point is a ring of its class's colour, a training point a filled disc: the
        // ring as thick as the point is large, so that XOR's four show their class on a projector
        let ring_hole = (radius * 0.55).clamp(1.0, (radius - 1.0).max(1.0));
        let mut add = |split: &crate::data::Split, hollow: bool| {
            for (row, &label) in split.inputs.rows().into_iter().zip(&split.labels) {
                let centre = to_screen([row[0], row[1]]);
                let color = palette::class_color(label, classes);
                let (ring, inside, hole) = if hollow {
                    (color, outline, ring_hole)
                } else {
                    (outline, color, radius)
                };
                disc(&mut mesh, centre, radius + 1.0, ring);
                disc(&mut mesh, centre, hole, inside);
            }
        };
        add(train, false);
        if self.show_test {
            add(&info.test, true);
        }
        painter.add(egui::Shape::mesh(mesh));
        let text = ui.visuals().text_color();
        // as large as the curves' ticks (egui_plot's are body text)
        let font = egui::TextStyle::Body.resolve(ui.style());
        // the y axis's ends sit inside the square's height, clear of the x axis's labels
        for (t, label_x, label_y, y_align) in [
            (0.0, x.0, y.0, egui::Align2::RIGHT_BOTTOM),
            (
                0.5,
                (x.0 + x.1) / 2.0,
                (y.0 + y.1) / 2.0,
                egui::Align2::RIGHT_CENTER,
            ),
            (1.0, x.1, y.1, egui::Align2::RIGHT_TOP),
        ] {
            painter.text(
                egui::pos2(square.left() + t * square.width(), square.bottom() + 2.0),
                egui::Align2::CENTER_TOP,
                tick(label_x),
                font.clone(),
                text,
            );
            painter.text(
                egui::pos2(square.left() - 4.0, square.bottom() - t * square.height()),
                y_align,
                tick(label_y),
                font.clone(),
                text,
            );
        }
        // a click on a training point makes it the probe (its class known: it can be stepped
        // through alone)
        let clicked = response
            .interact_pointer_pos()
            .filter(|_| response.clicked())
            .and_then(|p| {
                let (index, distance) = train
                    .inputs
                    .rows()
                    .into_iter()
                    .map(|row| to_screen([row[0], row[1]]).distance(p))
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(&b.1))?;
                (distance <= radius + 3.0).then(|| Probe {
                    input: train.inputs.row(index).to_owned(),
                    test_index: None,
                    label: train.labels.get(index).copied(),
                    name: format!("training point {index}"),
                })
            });
        let pointer = response
            .hover_pos()
            .filter(|p| square.contains(*p))
            .map(|p| {
                PlotPoint::new(
                    f64::from(x.0 + (p.x - square.left()) / square.width() * (x.1 - x.0)),
                    f64::from(y.0 + (square.bottom() - p.y) / square.height() * (y.1 - y.0)),
                )
            });
        let response = egui::InnerResponse::new(pointer, response);
        if let Some(pointer) = response.inner {
            let point = [pointer.x as f32, pointer.y as f32];
            let n = plane.resolution;
            let fraction = |v: f32, range: (f32, f32)| (v - range.0) / (range.1 - range.0);
            let col = (fraction(point[0], x) * (n - 1) as f32).round();
            let row = ((1.0 - fraction(point[1], y)) * (n - 1) as f32).round();
            if (0.0..n as f32).contains(&col) && (0.0..n as f32).contains(&row) {
                let (row, col) = (row as usize, col as usize);
                if let Some(outputs) = plane.layers.last() {
                    let outputs: Vec<f32> = outputs.row(row * n + col).to_vec();
                    let text = format!(
                        "x = {:.2}, y = {:.2}\noutput {}",
                        point[0],
                        point[1],
                        outputs
                            .iter()
                            .map(|&v| heat::format_value(v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    response.response.on_hover_text_at_pointer(text);
                    self.readout = Some(BoundaryReadout {
                        point,
                        grid: plane.point(row, col),
                        outputs,
                    });
                }
            }
        }
        clicked
    }
}

impl View for BoundaryView {
    fn id(&self) -> &'static str {
        "boundary"
    }

    fn title(&self) -> &'static str {
        "Decision boundary"
    }

    fn tooltip(&self) -> &'static str {
        "The model's output over the input plane, behind the data points"
    }

    fn unavailable(&self, info: &RunInfo) -> Option<&'static str> {
        Some("needs a 2-D dataset (xor, circle, spiral...)").filter(|_| info.input_shape.len() != 2)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), ctx.snapshot) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}

/// A point's radius on a plot `side` points wide holding `points` points: a few points (XOR's
/// four) are large enough to see from the back of a room, thousands small enough not to cover
/// the boundary.
fn point_radius(side: f32, points: usize) -> f32 {
    let crowd = (points.max(1) as f32).sqrt();
    (side / (4.0 * crowd + 30.0)).clamp(2.0, 12.0)
}

/// An axis value to one decimal, "0.0" rather than "-0.0" for a centre just below zero.
fn tick(value: f32) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    // adding 0 turns -0 into 0
    format!("{:.1}", rounded + 0.0)
}

#[cfg(test)]
mod tests {
    use super::{point_radius, tick};

    #[test]
    fn ticks_read_to_one_decimal_without_a_negative_zero() {
        assert_eq!(tick(-0.000_01), "0.0");
        assert_eq!(tick(-0.04), "0.0");
        assert_eq!(tick(-0.06), "-0.1");
        assert_eq!(tick(1.15), "1.2");
    }

    #[test]
    fn few_points_are_drawn_large_and_many_small() {
        // XOR's 4 + 4 points on a 400-point plot: about 10 points across
        let xor = point_radius(400.0, 8);
        assert!((9.0..=12.0).contains(&xor), "{xor}");
        // the spiral's 1,000 stay as small as before (side / 150)
        let spiral = point_radius(400.0, 1000);
        assert!((2.0..=3.0).contains(&spiral), "{spiral}");
        assert!(point_radius(4000.0, 1) <= 12.0 && point_radius(10.0, 5000) >= 2.0);
    }
}

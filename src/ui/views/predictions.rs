//! What the views of test predictions share: the test images as textures, a prediction card
//! (image, true label, top-3 probability bars, green or red), and the class each output means.

use std::collections::HashMap;
use std::sync::Arc;

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, TextureHandle, TextureOptions, Ui, Vec2};
use ndarray::ArrayView1;

use super::graph::digit_picture;
use crate::data::Split;
use crate::nn::predicted_class;
use crate::train::protocol::{Probe, RunInfo, TestOutputs};
use crate::ui::palette;

/// Test images as textures, made when first shown and kept for the run.
#[derive(Default)]
pub struct TestImages {
    split: Option<Arc<Split>>,
    textures: HashMap<usize, TextureHandle>,
}

impl TestImages {
    /// The texture of test image `index`, if the inputs are images.
    fn get(&mut self, ui: &Ui, info: &RunInfo, index: usize) -> Option<&TextureHandle> {
        let shape = info.input_shape;
        if shape.is_flat() {
            return None;
        }
        if !self
            .split
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &info.test))
        {
            self.split = Some(info.test.clone());
            self.textures.clear();
        }
        let row = info.test.inputs.row(index);
        Some(self.textures.entry(index).or_insert_with(|| {
            let picture = digit_picture(
                row.as_slice().unwrap_or(&row.to_vec()),
                shape.width,
                shape.height,
                shape.channels,
            );
            ui.ctx()
                .load_texture(format!("test {index}"), picture, TextureOptions::NEAREST)
        }))
    }
}

/// What class `k` is called.
pub fn class_name(info: &RunInfo, k: usize) -> String {
    if info.dataset.to_lowercase().contains("mnist") && info.classes == 10 {
        k.to_string()
    } else {
        format!("class {k}")
    }
}

/// Class probabilities from a row of outputs: softmax rows as they are, a single sigmoid
/// output p as [1 - p, p].
pub fn probabilities(outputs: ArrayView1<f32>) -> Vec<f32> {
    if outputs.len() == 1 {
        vec![1.0 - outputs[0], outputs[0]]
    } else {
        outputs.to_vec()
    }
}

/// The three most probable classes, most probable first.
pub fn top3(probabilities: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(3);
    ranked
}

pub const CARD_SIZE: Vec2 = Vec2::new(176.0, 78.0);

/// How many cards fit side by side in `ui` (leaving room for a scroll bar).
pub fn cards_per_row(ui: &Ui) -> usize {
    let gap = ui.spacing().item_spacing.x;
    (((ui.available_width() - 14.0 + gap) / (CARD_SIZE.x + gap)) as usize).max(1)
}

/// A card's first line for test sample `index` of class `name`, `room` wide by `measure`:
/// "#12 true class 1", else "#12 true c1", else "#12 c1".
fn card_title(index: usize, name: &str, room: f32, measure: impl Fn(&str) -> f32) -> String {
    let short = name.replace("class ", "c");
    let candidates = [
        format!("#{index} true {name}"),
        format!("#{index} true {short}"),
        format!("#{index} {short}"),
    ];
    let last = candidates[2].clone();
    candidates
        .into_iter()
        .find(|text| measure(text.as_str()) <= room)
        .unwrap_or(last)
}

/// One test prediction as a card; clicking it returns a clicked response.
pub fn card(
    ui: &mut Ui,
    images: &mut TestImages,
    info: &RunInfo,
    index: usize,
    outputs: ArrayView1<f32>,
    is_probe: bool,
) -> egui::Response {
    let label = info.test.labels[index];
    let predicted = predicted_class(outputs);
    let correct = predicted == label;
    let (rect, response) = ui.allocate_exact_size(CARD_SIZE, Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("test sample {index}"))
    });
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 4.0, visuals.faint_bg_color);
    let border = if correct {
        palette::CORRECT
    } else {
        palette::WRONG
    };
    let width = if is_probe { 3.5 } else { 1.5 };
    painter.rect_stroke(
        rect.shrink(1.0),
        4.0,
        Stroke::new(width, border),
        egui::StrokeKind::Inside,
    );
    let image_rect =
        Rect::from_min_size(rect.min + Vec2::splat(7.0), Vec2::splat(CARD_SIZE.y - 14.0));
    let text_left = if let Some(texture) = images.get(ui, info, index) {
        painter.image(
            texture.id(),
            image_rect,
            super::weights::full_uv(),
            Color32::WHITE,
        );
        image_rect.right() + 6.0
    } else {
        // a 2-D point: one coordinate a line, so that it stays inside the picture's square
        let point = info.test.inputs.row(index);
        painter.text(
            image_rect.left_center(),
            egui::Align2::LEFT_CENTER,
            format!(
                "x {:.2}\ny {:.2}",
                point[0],
                point.get(1).copied().unwrap_or(0.0)
            ),
            egui::FontId::proportional(11.0),
            visuals.text_color(),
        );
        image_rect.right() + 6.0
    };
    let font = egui::FontId::proportional(12.0);
    let measure = |text: &str| super::heat::text_size(&painter, text, &font).x;
    let room = rect.right() - 6.0 - text_left;
    let title = card_title(index, &class_name(info, label), room, measure);
    painter.text(
        Pos2::new(text_left, rect.top() + 6.0),
        egui::Align2::LEFT_TOP,
        title,
        font.clone(),
        visuals.text_color(),
    );
    let bar_left = text_left + 28.0;
    let bar_width = rect.right() - bar_left - 8.0;
    for (k, (class, p)) in top3(&probabilities(outputs)).into_iter().enumerate() {
        let y = rect.top() + 26.0 + 15.0 * k as f32;
        painter.text(
            Pos2::new(text_left, y),
            egui::Align2::LEFT_TOP,
            class_name(info, class).replace("class ", "c"),
            font.clone(),
            visuals.text_color(),
        );
        let full = Rect::from_min_size(Pos2::new(bar_left, y + 2.0), Vec2::new(bar_width, 10.0));
        painter.rect_filled(full, 2.0, visuals.extreme_bg_color);
        let color = if class == label {
            palette::CORRECT
        } else {
            palette::WRONG
        };
        let bar = Rect::from_min_size(full.min, Vec2::new(bar_width * p.clamp(0.0, 1.0), 10.0));
        painter.rect_filled(bar, 2.0, color);
        painter.text(
            full.right_center() - Vec2::new(2.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            format!("{:.0}%", p * 100.0),
            egui::FontId::proportional(10.0),
            visuals.strong_text_color(),
        );
    }
    let verdict = if correct { "right" } else { "wrong" };
    response.on_hover_text(RichText::new(format!(
        "Test sample {index}: true {}, predicted {} ({verdict}). Click to make it the probe sample.",
        class_name(info, label),
        class_name(info, predicted)
    )))
}

/// Test sample `index` as the probe.
pub fn test_probe(info: &RunInfo, index: usize) -> Probe {
    Probe {
        input: info.test.inputs.row(index).to_owned(),
        test_index: Some(index),
        label: info.test.labels.get(index).copied(),
        name: format!("test sample {index}"),
    }
}

/// The cards of test samples `indices`, as many per row as fit, scrolling (only the visible
/// rows are built); `probe` is framed thicker. Returns the clicked one as a probe.
pub fn card_grid(
    ui: &mut Ui,
    id: &str,
    images: &mut TestImages,
    info: &RunInfo,
    outputs: &TestOutputs,
    indices: &[usize],
    probe: Option<usize>,
) -> Option<Probe> {
    let per_row = cards_per_row(ui);
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, false])
        .show_rows(
            ui,
            CARD_SIZE.y + ui.spacing().item_spacing.y,
            indices.len().div_ceil(per_row),
            |ui, rows| {
                for row in rows {
                    ui.horizontal(|ui| {
                        for &index in indices.iter().skip(row * per_row).take(per_row) {
                            let row = outputs.outputs.row(index);
                            let is_probe = probe == Some(index);
                            if card(ui, images, info, index, row, is_probe).clicked() {
                                clicked = Some(test_probe(info, index));
                            }
                        }
                    });
                }
            },
        );
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::heat::test_fonts::with_fonts;

    #[test]
    fn card_titles_shorten_to_fit_the_card() {
        with_fonts(|measure| {
            let width = |text: &str| measure(text, 12.0).x;
            // a card's room beside its picture
            let room = CARD_SIZE.x - CARD_SIZE.y - 6.0;
            for index in [0, 12, 1499, 99_999] {
                for name in ["7", "class 1", "class 12"] {
                    let title = card_title(index, name, room, width);
                    assert!(
                        width(title.as_str()) <= room,
                        "{title} is wider than {room}"
                    );
                    assert!(title.starts_with(&format!("#{index} ")), "{title}");
                }
            }
            // what fits stays whole
            assert_eq!(card_title(12, "7", room, width), "#12 true 7");
            assert_eq!(card_title(12, "class 1", 1000.0, width), "#12 true class 1");
        });
    }
}

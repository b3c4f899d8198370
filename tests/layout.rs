//! The app at the window sizes people use, with every view on: every labelled widget lies
//! inside the window and inside its own view's tile, tiles keep their minimum size (scrolling
//! when they cannot all fit), and the toolbar's parts never run into each other.

use std::time::{Duration, Instant};

use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{BackpropLab, Launch, views};
use egui::accesskit::Role;
use egui::{Pos2, Rect, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{AccessKitNode, NodeT, Queryable, by};

const TIMEOUT: Duration = Duration::from_secs(60);
const SIZES: [[f32; 2]; 3] = [[1024.0, 700.0], [1440.0, 900.0], [1920.0, 1080.0]];
/// What the toolbar shows, by label (or its start).
const TOOLBAR: [&str; 9] = [
    "Play",
    "Step",
    "Step epoch",
    "Step through",
    "Reset",
    "Full speed",
    "epoch ",
    "Dark",
    "frame ",
];

type App = Harness<'static, BackpropLab>;

fn open(preset: &str, size: [f32; 2]) -> App {
    let mut config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42);
    config.epochs = None;
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        BackpropLab::new(
            cc,
            Launch {
                config: Some(config),
                views: Some(views::ids().into_iter().map(String::from).collect()),
                ..Launch::default()
            },
        )
    });
    let started = Instant::now();
    harness.step();
    // a few steps trained and evaluated, so every view has its content
    while harness
        .state()
        .worker()
        .and_then(|w| w.snapshot())
        .is_none()
    {
        assert!(started.elapsed() < TIMEOUT, "the trainer never got ready");
        harness.step();
    }
    for _ in 0..3 {
        harness.get_by_label("Step").click();
        harness.step();
    }
    while !harness
        .state()
        .worker()
        .and_then(|w| w.snapshot())
        .is_some_and(|s| s.step == 3 && s.test_outputs.as_ref().is_some_and(|o| o.step == 3))
    {
        assert!(started.elapsed() < TIMEOUT, "the steps never arrived");
        harness.step();
    }
    harness.run_steps(3);
    harness
}

/// What a node says: a label's text is its value, a widget's its label.
fn text(node: &AccessKitNode<'_>) -> Option<String> {
    if node.role() == Role::Label {
        node.value()
    } else {
        node.label()
    }
}

/// Every labelled widget (and label) with its rect.
fn labelled(harness: &App) -> Vec<(String, Rect)> {
    harness
        .query_all(by().predicate(|node| text(node).is_some_and(|t| !t.trim().is_empty())))
        .filter_map(|node| Some((text(&node.accesskit_node())?, node.rect())))
        .filter(|(_, rect)| rect.is_positive())
        .collect()
}

/// Inside `outer`, to half a point.
fn inside(outer: Rect, inner: Rect) -> bool {
    outer.expand(0.5).contains_rect(inner)
}

/// The tiles fully in view now: each labelled widget over one lies inside it.
fn check_visible_tiles(harness: &App, window: Rect, at: &str) -> Vec<&'static str> {
    let tiles = harness.state().views().tiles.clone();
    let viewport = harness.state().views().viewport;
    assert!(
        inside(window, viewport),
        "{at}: the views' area {viewport:?} leaves the window"
    );
    let widgets = labelled(harness);
    let mut checked = Vec::new();
    for &(id, tile) in &tiles {
        if !inside(viewport, tile) {
            continue;
        }
        for (label, rect) in &widgets {
            let overlap = rect.intersect(tile);
            if overlap.width() <= 0.5 || overlap.height() <= 0.5 {
                continue;
            }
            // the gallery's and the examples' cards are rows of a list that scrolls inside
            // its view, and the Code view's text scrolls both ways: their own edges cut them
            let in_scrolling_list = label.starts_with("test sample ");
            if label.starts_with("import ") {
                assert!(
                    tile.contains(rect.min),
                    "{at}: the code starts inside its tile"
                );
                continue;
            }
            let fits = if in_scrolling_list {
                tile.x_range().contains(rect.left())
                    && tile.expand(0.5).x_range().contains(rect.right())
            } else {
                inside(tile, *rect)
            };
            assert!(
                fits,
                "{at}: \"{label}\" {rect:?} crosses the edge of the {id} tile {tile:?}"
            );
        }
        checked.push(id);
    }
    checked
}

fn check(preset: &str, size: [f32; 2]) {
    let at = format!("{preset} at {}x{}", size[0], size[1]);
    let mut harness = open(preset, size);
    let window = Rect::from_min_size(Pos2::ZERO, Vec2::from(size));

    // the toolbar: inside the window, nothing over anything else
    let widgets = labelled(&harness);
    let toolbar: Vec<&(String, Rect)> = TOOLBAR
        .iter()
        .map(|name| {
            widgets
                .iter()
                .find(|(label, _)| {
                    label == name || (name.ends_with(' ') && label.starts_with(name))
                })
                .unwrap_or_else(|| panic!("{at}: the toolbar shows \"{name}\""))
        })
        .collect();
    for (i, (label, rect)) in toolbar.iter().enumerate() {
        assert!(
            inside(window, *rect),
            "{at}: \"{label}\" {rect:?} outside the window"
        );
        for (other, other_rect) in &toolbar[i + 1..] {
            assert!(
                !rect.intersect(*other_rect).is_positive(),
                "{at}: \"{label}\" runs into \"{other}\""
            );
        }
    }

    // every view on has a tile of at least its minimum size
    let shown = harness.state().views().tiles.clone();
    // the 2-D sets have no gallery (the drawing says why it cannot draw); the images no
    // decision boundary
    let unavailable = 1;
    assert_eq!(
        shown.len(),
        views::ids().len() - unavailable,
        "{at}: {shown:?}"
    );
    for (id, tile) in &shown {
        assert!(
            tile.width() >= 259.0 && tile.height() >= 189.0,
            "{at}: {id} tile {tile:?}"
        );
    }

    // each tile, scrolled into view where the window cannot hold them all
    let mut checked = check_visible_tiles(&harness, window, &at);
    for (id, _) in &shown {
        if checked.contains(id) {
            continue;
        }
        harness.state_mut().views_mut().reveal(id);
        // the scroll is animated: frames until the tiles stop moving
        let (mut last, mut still) = (Vec::new(), 0);
        for _ in 0..240 {
            harness.step();
            let now = harness.state().views().tiles.clone();
            still = if now == last { still + 1 } else { 0 };
            if still == 5 {
                break;
            }
            last = now;
        }
        checked.extend(check_visible_tiles(&harness, window, &at));
    }
    for (id, _) in &shown {
        assert!(
            checked.contains(id),
            "{at}: the {id} tile never came fully into view: {:?} in {:?}",
            harness.state().views().tiles,
            harness.state().views().viewport
        );
    }
}

#[test]
fn xor_with_every_view_is_readable_at_1024x700() {
    check("xor", SIZES[0]);
}

#[test]
fn xor_with_every_view_is_readable_at_1440x900() {
    check("xor", SIZES[1]);
}

#[test]
fn xor_with_every_view_is_readable_at_1920x1080() {
    check("xor", SIZES[2]);
}

#[test]
fn mnist_cnn_with_every_view_is_readable_at_1024x700() {
    check("mnist-cnn", SIZES[0]);
}

#[test]
fn mnist_cnn_with_every_view_is_readable_at_1440x900() {
    check("mnist-cnn", SIZES[1]);
}

#[test]
fn mnist_cnn_with_every_view_is_readable_at_1920x1080() {
    check("mnist-cnn", SIZES[2]);
}

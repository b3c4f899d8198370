//! Teaching with the app: Present mode and its toolbar, the scale, high contrast, the controls
//! students see, a view filling the area, and the pace of the 2-D sets. The real app driven
//! headless through egui_kittest; every wait is for a condition.

#[path = "common/app_harness.rs"]
mod app_harness;
#[path = "common/memory_storage.rs"]
mod memory_storage;

use std::time::Instant;

use app_harness::{App, step_until};
use backprop_lab::train::controls::{Control, Hidden};
use backprop_lab::train::protocol::Speed;
use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{Launch, PREFERENCES_KEY, Preferences, class_pace};
use egui::accesskit::Role;
use egui::{Event, Key, Modifiers, PointerButton, Pos2, Rect, Vec2};
use egui_kittest::kittest::Queryable;
use memory_storage::MemoryStorage;

fn run(name: &str) -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named(name).expect("a preset"), 42);
    config.epochs = None;
    config
}

fn launch_run(name: &str, views: &[&str]) -> Launch {
    Launch {
        config: Some(run(name)),
        views: Some(views.iter().map(|v| v.to_string()).collect()),
        ..Launch::default()
    }
}

/// Rects of the widgets labelled `labels`, each found exactly once.
fn rects(harness: &App, labels: &[&str]) -> Vec<(String, Rect)> {
    labels
        .iter()
        .map(|label| (label.to_string(), harness.get_by_label(label).rect()))
        .collect()
}

/// Whether any widget is labelled `label` (a slider and its text share theirs).
fn shown(harness: &App, label: &str) -> bool {
    harness.query_all_by_label(label).next().is_some()
}

/// Every rect inside `window`, and no two overlapping.
fn inside_and_apart(controls: &[(String, Rect)], window: Rect) {
    for (label, rect) in controls {
        assert!(
            window.contains_rect(*rect),
            "{label} at {rect:?} is outside the window {window:?}"
        );
    }
    for (i, (a, ra)) in controls.iter().enumerate() {
        for (b, rb) in &controls[i + 1..] {
            let shared = ra.intersect(*rb);
            assert!(
                shared.width() <= 0.0 || shared.height() <= 0.0,
                "{a} at {ra:?} overlaps {b} at {rb:?}"
            );
        }
    }
}

/// Clicks through menus by their labels (a menu's first frame only sizes it, unseen).
fn open_menu(harness: &mut App, path: &[&str]) {
    for label in path {
        harness.get_by_label(label).click();
        harness.step();
        harness.step();
    }
}

fn saved(harness: &mut App) -> MemoryStorage {
    let mut storage = MemoryStorage::default();
    eframe::App::save(harness.state_mut(), &mut storage);
    storage
}

fn saved_preferences(harness: &mut App) -> Preferences {
    eframe::get_value(&saved(harness), PREFERENCES_KEY).expect("the preferences load back")
}

#[test]
fn present_mode_at_1920x1080_and_200_percent_keeps_every_toolbar_control_inside_and_apart() {
    // A 1920x1080 screen at 200% gives egui 960x540 points to lay out in: the app's zoom turns
    // the window's 1920x1080 into that, as on the real screen.
    let mut harness = app_harness::launch_from(
        None,
        launch_run("xor", &["curves", "boundary"]),
        [1920.0, 1080.0],
    );
    harness.state_mut().set_scale(2.0);
    harness.key_press(Key::F5);
    harness.step();
    harness.step();
    assert_eq!(harness.ctx.content_rect().size(), Vec2::new(960.0, 540.0));
    assert!(harness.state().presenting());
    assert_eq!(harness.ctx.zoom_factor(), 2.0);
    let window = Rect::from_min_size(Pos2::ZERO, Vec2::new(960.0, 540.0));
    let toolbar = ["Play", "Step", "Step through", "Reset", "Leave"];
    inside_and_apart(&rects(&harness, &toolbar), window);
    // the settings, the layer table and the view toggles are away
    for gone in ["learning rate", "Loss", "mean |W|", "Views"] {
        assert!(!shown(&harness, gone), "{gone} is shown");
    }
    // stepping through, the phase buttons take the place of Step through
    harness.get_by_label("Step through").click();
    step_until(&mut harness, "the step to walk through", |app| {
        app.run_view().trace.is_some()
    });
    harness.step();
    let stepping = [
        "Play",
        "Step",
        "Previous phase",
        "Next phase",
        "Apply step",
        "Reset",
        "Leave",
    ];
    inside_and_apart(&rects(&harness, &stepping), window);
    let before = harness.state().views().step.phase;
    harness.get_by_label("Next phase").click();
    harness.step();
    assert_eq!(harness.state().views().step.phase, before + 1);
}

#[test]
fn esc_leaves_present_mode_with_the_panels_and_views_as_they_were() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves", "network", "boundary"]));
    let desk = ["Optimizer", "Loss", "mean |W|", "Views"];
    let slider = |harness: &App| {
        harness
            .get_by_role_and_label(Role::Slider, "learning rate")
            .rect()
    };
    let before = (rects(&harness, &desk), slider(&harness));
    let views_before = harness.state().shown_views().to_vec();
    harness.key_press(Key::F5);
    harness.step();
    assert!(harness.state().presenting());
    for gone in desk.into_iter().chain(["learning rate"]) {
        assert!(!shown(&harness, gone), "{gone} is shown");
    }
    // the presented views (curves and the boundary by default) fill the window's width
    let tiles: Vec<&str> = harness.state().views().tiles.iter().map(|t| t.0).collect();
    assert_eq!(tiles, ["curves", "boundary"]);
    let covered: f32 = harness
        .state()
        .views()
        .tiles
        .iter()
        .map(|t| t.1.width())
        .sum();
    assert!(
        covered > 1440.0 * 0.9,
        "the views cover {covered} of 1440 points"
    );
    harness.key_press(Key::Escape);
    harness.step();
    harness.step();
    assert!(!harness.state().presenting());
    assert_eq!((rects(&harness, &desk), slider(&harness)), before);
    assert_eq!(harness.state().shown_views(), views_before);
}

#[test]
fn hidden_controls_are_absent_not_greyed_and_their_shortcuts_do_nothing() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves"]));
    let hideable = ["Optimizer", "Adam", "learning rate", "Reset"];
    for label in hideable {
        assert!(shown(&harness, label), "{label} is not there");
    }
    // the toolbar's button and the view's toggle
    let step_through = |harness: &App| harness.get_all_by_label("Step through").count();
    assert_eq!(step_through(&harness), 2);
    harness.state_mut().set_hidden(Hidden::of([
        Control::Optimizer,
        Control::LearningRate,
        Control::Reset,
        Control::StepThrough,
    ]));
    harness.step();
    harness.step();
    for label in hideable
        .into_iter()
        .chain(["SGD", "Momentum", "β1", "β2", "ε"])
    {
        assert!(!shown(&harness, label), "{label} is still there");
    }
    assert_eq!(step_through(&harness), 1, "the view's toggle stays");
    // the others stay
    for label in ["Loss", "batch size", "L2", "Step", "Play"] {
        assert!(shown(&harness, label), "{label} went too");
    }
    // R resets nothing and T starts no step-through
    harness.get_by_label("Step").click();
    step_until(&mut harness, "one step", |app| {
        app.run_view().status.step == 1
    });
    harness.key_press(Key::R);
    harness.key_press(Key::T);
    harness.step();
    harness.get_by_label("Step").click();
    step_until(&mut harness, "the second step", |app| {
        app.run_view().status.step == 2
    });
    assert!(harness.state().run_view().trace.is_none());
    // in Present mode as well (no view toggles there)
    harness.state_mut().set_presenting(true);
    harness.step();
    harness.get_by_label("Leave");
    for label in ["Reset", "Step through"] {
        assert!(harness.query_by_label(label).is_none(), "{label} presented");
    }
    // and they are saved with the preferences
    assert_eq!(
        saved_preferences(&mut harness).hidden.controls(),
        [
            Control::Optimizer,
            Control::LearningRate,
            Control::Reset,
            Control::StepThrough
        ]
    );
}

#[test]
fn the_step_through_view_leaves_out_its_loss_switch_and_start_buttons_when_those_are_hidden() {
    let mut harness = app_harness::launch(launch_run("xor", &["step"]));
    let start = "Step through the next batch";
    let probe_start = |harness: &App| harness.query_by_label_contains(" alone").is_some();
    step_until(&mut harness, "the first snapshot", |app| {
        app.run_view().status.step == 0 && app.run_view().info.is_some()
    });
    harness.run_steps(2);
    assert!(shown(&harness, start) && probe_start(&harness));
    harness.state_mut().set_hidden(Hidden::of([Control::Loss]));
    harness.key_press(Key::T);
    step_until(&mut harness, "the trace", |app| {
        app.run_view().trace.is_some()
    });
    // input, forward 0, forward 1, then the loss phase
    for _ in 0..3 {
        harness.key_press(Key::ArrowRight);
        harness.run_steps(2);
    }
    let switches = |harness: &App| {
        harness.query_all_by_label("MSE").count()
            + harness.query_all_by_label("cross-entropy").count()
    };
    assert_eq!(
        switches(&harness),
        0,
        "the loss phase offers no loss switch"
    );
    // shown again, the settings panel and the loss phase each have both
    harness.state_mut().set_hidden(Hidden::default());
    harness.run_steps(2);
    assert_eq!(switches(&harness), 4);
    // the step-through hidden: the view explains itself but offers no way in
    harness.key_press(Key::Escape);
    step_until(&mut harness, "the step abandoned", |app| {
        app.run_view().trace.is_none()
    });
    harness
        .state_mut()
        .set_hidden(Hidden::of([Control::StepThrough]));
    harness.run_steps(2);
    assert!(!shown(&harness, start));
    assert!(!probe_start(&harness), "the probe's way in went too");
}

#[test]
fn a_teacher_unticks_a_control_in_the_view_menu_and_it_goes() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves"]));
    // the window's first frame only sizes it, too
    open_menu(&mut harness, &["View", "Controls students see…"]);
    harness.step();
    harness.get_by_label("Learning rate").click();
    harness.step();
    assert!(!shown(&harness, "learning rate"));
    assert!(!harness.state().hidden().shows(Control::LearningRate));
    harness.get_by_label("Show all").click();
    harness.step();
    harness.step();
    harness.get_by_role_and_label(Role::Slider, "learning rate");
}

#[test]
fn the_scale_follows_ctrl_plus_minus_and_zero_stays_within_100_to_250_and_survives_a_restart() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves"]));
    let press = |harness: &mut App, key: Key| {
        harness.key_press_modifiers(Modifiers::COMMAND, key);
        harness.step();
        harness.state().scale()
    };
    assert_eq!(press(&mut harness, Key::Plus), 1.25);
    assert_eq!(press(&mut harness, Key::Equals), 1.5);
    assert_eq!(press(&mut harness, Key::Minus), 1.25);
    assert_eq!(press(&mut harness, Key::Num0), 1.0);
    assert_eq!(press(&mut harness, Key::Minus), 1.0);
    for _ in 0..10 {
        press(&mut harness, Key::Plus);
    }
    assert_eq!(harness.state().scale(), 2.5);
    assert_eq!(harness.ctx.zoom_factor(), 2.5);
    assert_eq!(press(&mut harness, Key::Minus), 2.25);
    // the next launch starts at 225%, and the View menu says so
    let storage: &'static MemoryStorage = Box::leak(Box::new(saved(&mut harness)));
    drop(harness);
    let mut harness = app_harness::launch_from(Some(storage), Launch::default(), [1440.0, 900.0]);
    assert_eq!(harness.state().scale(), 2.25);
    harness.step();
    assert_eq!(harness.ctx.zoom_factor(), 2.25);
    open_menu(&mut harness, &["View"]);
    harness.get_by_label("Scale: 225%");
}

#[test]
fn high_contrast_draws_thicker_and_larger_and_is_kept() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves", "boundary"]));
    let body = |harness: &App| harness.ctx.global_style().text_styles[&egui::TextStyle::Body].size;
    let normal = body(&harness);
    assert_eq!(backprop_lab::ui::emphasis(&harness.ctx), 1.0);
    open_menu(&mut harness, &["View"]);
    harness.get_by_label("High contrast").click();
    harness.step();
    assert!(harness.state().high_contrast());
    assert_eq!(backprop_lab::ui::emphasis(&harness.ctx), 2.0);
    assert!((body(&harness) / normal - 1.25).abs() < 1e-4);
    assert!(saved_preferences(&mut harness).high_contrast);
    // the labels the views paint themselves grow too: the boundary's middle ticks
    harness.run_steps(2);
    let larger = label_sizes(&harness, "0.5", "boundary");
    harness.state_mut().set_high_contrast(false);
    assert_eq!(body(&harness), normal);
    harness.run_steps(2);
    let usual = label_sizes(&harness, "0.5", "boundary");
    // as large as the curves' ticks (body text), which high contrast enlarges
    assert!(usual.contains(&normal), "{usual:?}");
    let enlarged = normal * 1.25;
    assert!(
        larger.contains(&enlarged) && !larger.contains(&normal),
        "{larger:?}"
    );
}

/// The font sizes of the texts reading `text` painted in `view`'s tile in the last frame.
fn label_sizes(harness: &App, text: &str, view: &str) -> Vec<f32> {
    fn collect(shape: &egui::Shape, text: &str, tile: Rect, sizes: &mut Vec<f32>) {
        match shape {
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| collect(s, text, tile, sizes)),
            egui::Shape::Text(shape) if shape.galley.text() == text && tile.contains(shape.pos) => {
                sizes.extend(
                    shape
                        .galley
                        .job
                        .sections
                        .iter()
                        .map(|section| section.format.font_id.size),
                )
            }
            _ => {}
        }
    }
    let tile = harness
        .state()
        .views()
        .tiles
        .iter()
        .find_map(|(id, rect)| (*id == view).then_some(*rect))
        .expect("the view's tile");
    let mut sizes = Vec::new();
    for clipped in &harness.output().shapes {
        collect(&clipped.shape, text, tile, &mut sizes);
    }
    sizes
}

/// Clicks twice at `at` within one frame: a double click.
fn double_click(harness: &mut App, at: Pos2) {
    harness.input_mut().events.push(Event::PointerMoved(at));
    harness.step();
    for _ in 0..2 {
        for pressed in [true, false] {
            harness.input_mut().events.push(Event::PointerButton {
                pos: at,
                button: PointerButton::Primary,
                pressed,
                modifiers: Modifiers::NONE,
            });
        }
    }
    harness.step();
    harness.step();
}

#[test]
fn double_clicking_a_views_title_fills_the_area_and_again_brings_the_others_back() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves", "network", "boundary"]));
    harness.step();
    let tiles = harness.state().views().tiles.clone();
    assert_eq!(tiles.len(), 3);
    let (_, tile) = tiles[2];
    let title = harness
        .get_all_by_label("Decision boundary")
        .map(|node| node.rect())
        .find(|rect| tile.contains_rect(*rect))
        .expect("the boundary's title in its tile");
    double_click(&mut harness, title.center());
    assert_eq!(harness.state().views().maximized, Some("boundary"));
    let tiles = harness.state().views().tiles.clone();
    assert_eq!(tiles.len(), 1);
    let viewport = harness.state().views().viewport;
    assert!(tiles[0].1.width() >= viewport.width() - 1.0);
    let title = harness
        .get_all_by_label("Decision boundary")
        .map(|node| node.rect())
        .find(|rect| tiles[0].1.contains_rect(*rect))
        .expect("the title");
    double_click(&mut harness, title.center());
    assert_eq!(harness.state().views().maximized, None);
    assert_eq!(harness.state().views().tiles.len(), 3);
}

#[test]
fn the_2d_sets_start_at_a_class_pace_and_the_digits_at_full_speed() {
    let mut harness = app_harness::launch(launch_run("spiral", &["curves"]));
    let pace = class_pace();
    let Speed::StepsPerSecond(rate) = pace else {
        panic!("the class pace is a rate")
    };
    let preferences = saved_preferences(&mut harness);
    assert_eq!(
        (preferences.toy_speed, preferences.speed),
        (pace, Speed::Full)
    );
    // throttled, n batches after Play take at least (n - 1) / rate: a bound no machine breaks
    let started = Instant::now();
    harness.get_by_label("Play").click();
    step_until(&mut harness, "paced batches", |app| {
        let done = app.run_view().status.step;
        let elapsed = started.elapsed().as_secs_f64();
        assert!(
            done as f64 <= 1.0 + (elapsed + 0.001) * f64::from(rate),
            "{done} batches {elapsed:.3} s after Play at {rate} batches/s"
        );
        done >= 50
    });
    // full speed is one click away, and kept for the 2-D sets only
    harness.get_by_label("Full speed").click();
    harness.step();
    let preferences = saved_preferences(&mut harness);
    assert_eq!(
        (preferences.toy_speed, preferences.speed),
        (Speed::Full, Speed::Full)
    );
    // the digits' runs were never paced
    let throttle = "Batches per second while playing";
    let mut harness = app_harness::launch(launch_run("mnist-mlp", &["curves"]));
    harness.step();
    assert!(
        harness
            .query_by_role_and_label(Role::Slider, throttle)
            .is_none()
    );
    let mut harness = app_harness::launch(launch_run("xor", &["curves"]));
    harness.step();
    harness.get_by_role_and_label(Role::Slider, throttle);
}

#[test]
fn the_presented_views_are_one_or_two_chosen_in_the_view_menu() {
    let mut harness = app_harness::launch(launch_run("xor", &["curves"]));
    assert_eq!(harness.state().presented_views(), ["curves", "boundary"]);
    // (a click in a menu closes it: it is opened again for each)
    let toggle = |harness: &mut App, title: &str| {
        open_menu(harness, &["View", "Views when presenting"]);
        harness.get_by_role_and_label(Role::CheckBox, title).click();
        harness.step();
    };
    // a third view takes the oldest one's place
    toggle(&mut harness, "Network");
    assert_eq!(harness.state().presented_views(), ["boundary", "network"]);
    // and the last one cannot go
    toggle(&mut harness, "Network");
    toggle(&mut harness, "Decision boundary");
    assert_eq!(harness.state().presented_views(), ["boundary"]);
}

//! The settings side panel: preset, dataset, architecture, loss, optimizer, learning rate, batch
//! size, L2 and seed. Loss, optimizer, learning rate, batch size and L2 apply to the running
//! network at the next batch; data, architecture and seed need a reset, and the panel says so.

use std::fmt::Display;
use std::ops::RangeInclusive;

use egui::{CollapsingHeader, ComboBox, DragValue, Response, RichText, Slider, SliderClamping, Ui};

use super::{file_dialog, palette};
use crate::data::{DataSource, ToyKind, ToySpec};
use crate::nn::{Activation, LayerSpec, Loss, Optimizer, Padding, Shape};
use crate::train::controls::{Control, Hidden};
use crate::train::cost::{Cost, format_size, group_digits, measure_flops_per_second};
use crate::train::{Preset, RunConfig, SettingChange, presets};

/// What the panel asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingsAction {
    /// Apply to the running network at the next batch.
    Change(SettingChange),
    /// Start a new run from this config (new initial weights).
    Restart(RunConfig),
    /// Pause after this many epochs (`None`: never); applies to the running network.
    RunLength(Option<usize>),
}

/// Where a note in the panel belongs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Folder,
    Layer(usize),
    LearningRate,
    BatchSize,
    WeightDecay,
    RunLength,
}

/// `value` kept within `range`; what was typed and what it became, when it had to be moved.
pub fn clamp_note<T: PartialOrd + Copy + Display>(
    value: &mut T,
    range: &RangeInclusive<T>,
    what: &str,
) -> Option<String> {
    let typed = *value;
    *value = if typed < *range.start() {
        *range.start()
    } else if typed > *range.end() {
        *range.end()
    } else {
        return None;
    };
    Some(format!(
        "{what} {typed} is out of range ({} to {}): set to {}",
        range.start(),
        range.end(),
        value
    ))
}

pub struct SettingsPanel {
    /// What the next reset starts. Its live settings show what the trainer confirmed, except
    /// while the user drags a slider or a change awaits the trainer's answer.
    pub draft: RunConfig,
    /// Setting changes sent and not answered yet.
    awaiting: usize,
    /// A slider was being dragged in the last frame.
    dragging: bool,
    /// The preset the combo shows and Load starts: the run's own, none for a run of the
    /// user's own making (until one is chosen).
    preset_choice: Option<String>,
    folder_text: String,
    /// A note where something happened: a typed value moved into range, no file dialog.
    note: Option<(Place, String)>,
    /// A large architecture waiting for the user's yes, with what it will cost.
    confirm: Option<(RunConfig, String)>,
}

/// The input shape and class count a data source will have.
pub fn data_shape(data: &DataSource) -> (Shape, usize) {
    data.shape()
}

/// Why `config` cannot be built, if it cannot: shapes that do not chain, an output that does
/// not fit the classes, a loss the output cannot take, more memory than this machine allows.
pub fn validate(config: &RunConfig) -> Result<(), String> {
    let (mut shape, classes) = data_shape(&config.data);
    for (i, layer) in config.layers.iter().enumerate() {
        shape = layer
            .output_shape(shape)
            .map_err(|e| format!("layer {} ({}): {e}", i + 1, layer.describe()))?;
    }
    let Some(last) = config.layers.last() else {
        return Err("the network needs at least one layer".into());
    };
    let outputs = shape.len();
    if !(outputs == classes || outputs == 1 && classes == 2) {
        return Err(format!(
            "the output layer has {outputs} units; the data has {classes} classes"
        ));
    }
    config
        .settings
        .loss
        .check(last.activation(), outputs)
        .map_err(|e| e.to_string())?;
    config.settings.validate()?;
    // refused before anything is allocated, with the figure
    config.check_size().map_err(|e| e.to_string())
}

/// Fits an architecture to new data: a flatten first for images, none for points, and an
/// output layer with one unit per class (one sigmoid unit for two classes).
pub fn adapt_layers(layers: &mut Vec<LayerSpec>, data: &DataSource) {
    let (shape, classes) = data_shape(data);
    if shape.is_flat() {
        layers.retain(|l| {
            !matches!(
                l,
                LayerSpec::Flatten | LayerSpec::Conv2d { .. } | LayerSpec::MaxPool2d { .. }
            )
        });
    } else if matches!(
        layers.first(),
        Some(LayerSpec::Dense { .. } | LayerSpec::Dropout { .. }) | None
    ) {
        layers.insert(0, LayerSpec::Flatten);
    }
    let output = if classes == 2 {
        LayerSpec::Dense {
            units: 1,
            activation: Activation::Sigmoid,
        }
    } else {
        LayerSpec::Dense {
            units: classes,
            activation: Activation::Softmax,
        }
    };
    match layers.last_mut() {
        Some(last @ LayerSpec::Dense { .. }) => *last = output,
        _ => layers.push(output),
    }
}

/// The preset `config` still is, if any: named, with the preset's data and layers (a run whose
/// network or data was changed in the panel is the user's own).
fn preset_of(config: &RunConfig) -> Option<String> {
    let name = config.preset.as_deref()?;
    let preset = Preset::named(name)?;
    let same = preset.data_source(config.seed) == config.data && preset.layers == config.layers;
    same.then(|| name.to_string())
}

/// What the preset combo shows for a run of the user's own making...
const CUSTOM: &str = "custom";
/// ...and what it says of it.
const CUSTOM_DESCRIPTION: &str = "A run of your own making: choose a preset to start one afresh.";

/// Beyond these, a run is far larger than the presets and the panel asks before starting it.
const LARGE_PARAMETERS: usize = 2_000_000;
const LARGE_BYTES: u64 = 1 << 30;
const SLOW_SAMPLES_PER_SECOND: f64 = 200.0;

/// What a run far larger than the presets will cost on this machine, if it is one: the
/// parameter count, the memory while training and the expected speed.
/// `flops_per_second` gives this machine's measured speed (asked only for networks that might
/// be slow).
pub fn large_run_warning(
    config: &RunConfig,
    flops_per_second: impl FnOnce() -> f64,
) -> Option<String> {
    let (input, _) = data_shape(&config.data);
    let batch = config.settings.batch_size;
    let cost = Cost::estimate(input, &config.layers, batch).ok()?;
    let cheap = cost.parameters <= LARGE_PARAMETERS && cost.training_bytes <= LARGE_BYTES;
    if cheap && cost.flops_per_sample < 1e6 {
        return None;
    }
    let speed = cost.samples_per_second(flops_per_second());
    if cheap && speed >= SLOW_SAMPLES_PER_SECOND {
        return None;
    }
    Some(format!(
        "This network has {} parameters (the largest preset has about 0.7 million). Training it \
         in batches of {batch} takes about {} of memory and, on this machine, about {} samples \
         per second. Apply it anyway?",
        group_digits(cost.parameters),
        format_size(cost.training_bytes),
        if speed >= 10.0 {
            format!("{speed:.0}")
        } else {
            format!("{speed:.1}")
        }
    ))
}

/// This machine's matrix-product speed, measured once, the first time a network might be slow
/// (not at start-up).
fn machine_flops() -> f64 {
    static FLOPS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *FLOPS.get_or_init(measure_flops_per_second)
}

/// A change that takes effect when the user lets go of a slider or finishes typing.
fn committed(response: &Response) -> bool {
    response.drag_stopped() || (response.changed() && !response.dragged())
}

impl SettingsPanel {
    pub fn new(config: RunConfig) -> Self {
        let folder_text = match &config.data {
            DataSource::IdxFolder { path } => path.display().to_string(),
            _ => String::new(),
        };
        Self {
            preset_choice: preset_of(&config),
            draft: config,
            awaiting: 0,
            dragging: false,
            folder_text,
            note: None,
            confirm: None,
        }
    }

    /// The note for `place`, if there is one.
    fn note_ui(&self, ui: &mut Ui, place: Place) {
        if let Some((at, text)) = &self.note
            && *at == place
        {
            ui.label(RichText::new(text).color(palette::PENDING));
        }
    }

    /// Sets a note at `place` if there is one, and clears a stale one there otherwise.
    fn set_note(&mut self, place: Place, note: Option<String>) {
        match note {
            Some(text) => self.note = Some((place, text)),
            None if self.note.as_ref().is_some_and(|(at, _)| *at == place) => self.note = None,
            None => {}
        }
    }

    fn use_folder(&mut self, folder: std::path::PathBuf) {
        self.folder_text = folder.display().to_string();
        self.draft.data = DataSource::IdxFolder { path: folder };
        self.set_note(Place::Folder, None);
    }

    /// A folder dropped on the window: the data of the next reset.
    pub fn dropped_folder(&mut self, folder: std::path::PathBuf) {
        self.use_folder(folder);
    }

    /// True when data, architecture or seed differ from the running config.
    pub fn needs_reset(&self, active: &RunConfig) -> bool {
        self.draft.data != active.data
            || self.draft.layers != active.layers
            || self.draft.seed != active.seed
    }

    /// A new run from `config` started: no change awaits an answer any more.
    pub fn restarted(&mut self, config: RunConfig) {
        self.preset_choice = preset_of(&config);
        self.draft = config;
        self.awaiting = 0;
    }

    /// A setting change was sent from elsewhere (the step-through's loss switch): wait for the
    /// trainer's answer like for the panel's own.
    pub fn awaiting_answer(&mut self) {
        self.awaiting += 1;
    }

    /// The trainer answered one setting change (confirmed or refused).
    pub fn answered(&mut self) {
        self.awaiting = self.awaiting.saturating_sub(1);
    }

    /// `active`: the running config, with the settings the trainer confirmed; the `hidden`
    /// controls are left out.
    pub fn ui(&mut self, ui: &mut Ui, active: &RunConfig, hidden: &Hidden) -> Vec<SettingsAction> {
        if self.awaiting == 0 && !self.dragging {
            self.draft.settings = active.settings;
        }
        let mut actions = Vec::new();
        egui::ScrollArea::vertical().show(ui, |ui| {
            // a preset sets the data and the layers both
            if hidden.shows(Control::Dataset) && hidden.shows(Control::Architecture) {
                self.preset_ui(ui, &mut actions);
            }
            if self.needs_reset(active) {
                ui.add_space(4.0);
                let valid = validate(&self.draft);
                ui.group(|ui| {
                    ui.label(
                        RichText::new("Data, architecture or seed changed.")
                            .color(palette::PENDING)
                            .strong(),
                    );
                    ui.label("They apply on reset, which starts again from new initial weights.");
                    match &valid {
                        Ok(()) => {
                            if ui
                                .button("Reset and apply")
                                .on_hover_text("Start a new run with these settings")
                                .clicked()
                            {
                                match large_run_warning(&self.draft, machine_flops) {
                                    Some(warning) => {
                                        self.confirm = Some((self.draft.clone(), warning))
                                    }
                                    None => {
                                        actions.push(SettingsAction::Restart(self.draft.clone()))
                                    }
                                }
                            }
                        }
                        Err(reason) => {
                            ui.label(RichText::new(reason).color(palette::ALERT));
                        }
                    }
                    if ui
                        .button("Undo these changes")
                        .on_hover_text(
                            "Put data, layers and seed back as the running network has them",
                        )
                        .clicked()
                    {
                        self.draft.data = active.data.clone();
                        self.draft.layers = active.layers.clone();
                        self.draft.seed = active.seed;
                    }
                });
            }
            if hidden.shows(Control::Dataset) {
                CollapsingHeader::new("Dataset")
                    .default_open(true)
                    .show(ui, |ui| self.data_ui(ui));
            }
            if hidden.shows(Control::Architecture) {
                CollapsingHeader::new("Architecture")
                    .default_open(true)
                    .show(ui, |ui| self.architecture_ui(ui));
            }
            CollapsingHeader::new("Training")
                .default_open(true)
                .show(ui, |ui| self.training_ui(ui, &mut actions, hidden));
        });
        self.confirm_ui(ui, &mut actions);
        self.awaiting += actions
            .iter()
            .filter(|a| matches!(a, SettingsAction::Change(_)))
            .count();
        actions
    }

    /// Asks before a run far larger than the presets starts, with what it will cost.
    fn confirm_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>) {
        let Some((config, warning)) = &self.confirm else {
            return;
        };
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("large run")).show(ui.ctx(), |ui| {
            ui.set_max_width(420.0);
            ui.heading("A large network");
            ui.label(warning);
            ui.horizontal(|ui| {
                if ui.button("Apply anyway").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
        match answer {
            Some(true) => {
                actions.push(SettingsAction::Restart(config.clone()));
                self.confirm = None;
            }
            Some(false) => self.confirm = None,
            None => {}
        }
    }

    fn preset_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>) {
        let all = presets();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Preset").strong());
            ComboBox::from_id_salt("preset")
                .selected_text(self.preset_choice.as_deref().unwrap_or(CUSTOM))
                .show_ui(ui, |ui| {
                    for preset in &all {
                        let name = Some(preset.name.to_string());
                        ui.selectable_value(&mut self.preset_choice, name, preset.name)
                            .on_hover_text(preset.description);
                    }
                })
                .response
                .accessible_name("Preset");
            let chosen = all
                .iter()
                .find(|p| self.preset_choice.as_deref() == Some(p.name));
            if ui
                .add_enabled(chosen.is_some(), egui::Button::new("Load"))
                .on_hover_text("Start the preset from scratch: its data, architecture and settings, with this seed")
                .on_disabled_hover_text("Choose a preset to start it from scratch")
                .clicked()
                && let Some(preset) = chosen
            {
                self.draft = RunConfig::from_preset(preset, self.draft.seed);
                actions.push(SettingsAction::Restart(self.draft.clone()));
            }
        });
        let description = all
            .iter()
            .find(|p| self.preset_choice.as_deref() == Some(p.name))
            .map_or(CUSTOM_DESCRIPTION, |preset| preset.description);
        ui.label(RichText::new(description).italics());
        ui.separator();
    }

    fn data_ui(&mut self, ui: &mut Ui) {
        let before = self.draft.data.clone();
        let label = match &self.draft.data {
            DataSource::Toy(spec) => spec.kind.name().to_string(),
            DataSource::MnistSubset => "MNIST subset (9,000 digits)".into(),
            DataSource::IdxFolder { .. } => "MNIST-format folder".into(),
        };
        let seed = self.draft.seed;
        ComboBox::from_id_salt("dataset")
            .selected_text(label)
            .width(220.0)
            .show_ui(ui, |ui| {
                for kind in ToyKind::ALL {
                    let selected = matches!(&self.draft.data, DataSource::Toy(s) if s.kind == kind);
                    if ui.selectable_label(selected, kind.name()).clicked() && !selected {
                        let previous = match &self.draft.data {
                            DataSource::Toy(spec) => *spec,
                            _ => ToySpec::new(kind, 400, seed),
                        };
                        self.draft.data = DataSource::Toy(ToySpec { kind, ..previous });
                    }
                }
                if ui
                    .selectable_label(
                        self.draft.data == DataSource::MnistSubset,
                        "MNIST subset (9,000 digits)",
                    )
                    .on_hover_text("7,500 training and 1,500 test digits that ship inside the app")
                    .clicked()
                {
                    self.draft.data = DataSource::MnistSubset;
                }
            })
            .response
            .accessible_name("Dataset");
        match &mut self.draft.data {
            DataSource::Toy(spec) => {
                if spec.kind != ToyKind::Xor {
                    ui.add(
                        Slider::new(&mut spec.samples, 20..=5000)
                            .logarithmic(true)
                            .text("points"),
                    )
                    .on_hover_text("Points generated, train and test together");
                    ui.add(Slider::new(&mut spec.noise, 0.0..=0.5).text("noise"))
                        .on_hover_text(
                            "Standard deviation of the Gaussian noise added to each coordinate",
                        );
                    ui.add(Slider::new(&mut spec.train_fraction, 0.1..=0.9).text("train share"))
                        .on_hover_text(
                            "Share of the points used for training; the rest is the test split",
                        );
                } else {
                    ui.label("[[0,0],[0,1],[1,0],[1,1]] -> [0,1,1,0]; train and test are the same 4 points.");
                }
            }
            DataSource::MnistSubset | DataSource::IdxFolder { .. } => {}
        }
        ui.horizontal(|ui| {
            if ui
                .button("Open MNIST folder…")
                .on_hover_text("A folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or .gz): MNIST, Fashion-MNIST, …")
                .clicked()
            {
                match file_dialog::pick_folder("MNIST-format folder", "the folder path field beside the button") {
                    Ok(Some(folder)) => self.use_folder(folder),
                    Ok(None) => {}
                    Err(message) => self.note = Some((Place::Folder, message)),
                }
            }
            let edit = ui
                .add(egui::TextEdit::singleline(&mut self.folder_text).hint_text("or type a folder path").desired_width(140.0))
                .on_hover_text("The path of an MNIST-format folder; press Enter to use it (applies on reset)");
            if edit.lost_focus() && !self.folder_text.trim().is_empty() {
                let folder = self.folder_text.trim().into();
                self.use_folder(folder);
            }
        });
        self.note_ui(ui, Place::Folder);
        if data_shape(&before) != data_shape(&self.draft.data) {
            adapt_layers(&mut self.draft.layers, &self.draft.data);
        }
    }

    fn architecture_ui(&mut self, ui: &mut Ui) {
        let (input, _) = data_shape(&self.draft.data);
        ui.label(format!("input: {input}"));
        let count = self.draft.layers.len();
        let mut remove = None;
        let mut shape = Some(input);
        let mut notes = Vec::new();
        for (i, layer) in self.draft.layers.iter_mut().enumerate() {
            let is_output = i + 1 == count;
            // wraps in a narrow panel; the remove button comes first, so it is never cut off
            ui.horizontal_wrapped(|ui| {
                if is_output {
                    ui.add_space(ui.spacing().interact_size.y);
                } else if ui
                    .small_button("x")
                    .on_hover_text("Remove this layer")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.label(format!("{}.", i + 1));
                if let Some(note) = layer_editor(ui, layer, i, is_output) {
                    notes.push((i, note));
                }
                shape = shape.and_then(|s| layer.output_shape(s).ok());
                if let Some(s) = shape {
                    ui.label(RichText::new(format!("-> {s}")).weak());
                }
            });
            if let Some((at, text)) = &self.note
                && *at == Place::Layer(i)
                && !notes.iter().any(|(k, _)| *k == i)
            {
                ui.label(RichText::new(text).color(palette::PENDING));
            }
        }
        for (i, note) in notes {
            self.note = Some((Place::Layer(i), note));
        }
        if let Some(i) = remove {
            self.draft.layers.remove(i);
        }
        ui.horizontal_wrapped(|ui| {
            let before_output = self.draft.layers.len().saturating_sub(1);
            if ui.button("+ Dense").on_hover_text("A fully connected hidden layer: a = f(Wx + b)").clicked() {
                let activation = Activation::Relu;
                self.draft.layers.insert(before_output, LayerSpec::Dense { units: 16, activation });
            }
            if ui.button("+ Dropout").on_hover_text("While training, zero each value with probability p and scale the rest by 1/(1-p); nothing at test time").clicked() {
                self.draft.layers.insert(before_output, LayerSpec::Dropout { rate: 0.2 });
            }
            if !input.is_flat() {
                if ui.button("+ Conv2d").on_hover_text("3x3 filters slid over the image: a = f(W * x + b), inserted first").clicked() {
                    self.draft.layers.insert(
                        0,
                        LayerSpec::Conv2d {
                            filters: 8,
                            kernel: 3,
                            padding: Padding::Valid,
                            activation: Activation::Relu,
                        },
                    );
                }
                if ui.button("+ MaxPool").on_hover_text("Keep the largest value of each 2x2 window, after the first convolution").clicked() {
                    let at = self.draft.layers.iter().position(|l| !matches!(l, LayerSpec::Conv2d { .. })).unwrap_or(0);
                    self.draft.layers.insert(at, LayerSpec::MaxPool2d { size: 2 });
                }
            }
        });
        ui.label(RichText::new("Layer changes apply on reset.").weak());
    }

    /// The training settings students see, the run length and the seed.
    fn training_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>, hidden: &Hidden) {
        let mut dragging = false;
        let mut notes = Vec::new();
        if hidden.shows(Control::Loss) {
            self.loss_ui(ui, actions);
        }
        if hidden.shows(Control::Optimizer) {
            dragging |= self.optimizer_ui(ui, actions);
        }
        let settings = &mut self.draft.settings;
        let note = &self.note;
        let mut slider = |ui: &mut Ui, slider: Slider<'_>, tip: &str, place: Place| {
            let r = ui.add(slider).on_hover_text(tip);
            dragging |= r.dragged();
            let done = committed(&r);
            if let Some((at, text)) = note
                && *at == place
            {
                ui.label(RichText::new(text).color(palette::PENDING));
            }
            done
        };
        if hidden.shows(Control::LearningRate) {
            let range = 1e-5..=10.0;
            let lr = &mut settings.optimizer.learning_rate;
            let widget = Slider::new(lr, range.clone())
                .logarithmic(true)
                .clamping(SliderClamping::Never)
                .text("learning rate");
            let tip = "lr in w <- w - lr·(update): the size of each step";
            if slider(ui, widget, tip, Place::LearningRate) {
                let lr = &mut settings.optimizer.learning_rate;
                notes.push((Place::LearningRate, clamp_note(lr, &range, "learning rate")));
                actions.push(SettingsAction::Change(SettingChange::LearningRate(*lr)));
            }
        }
        if hidden.shows(Control::BatchSize) {
            let range = 1..=1024;
            let widget = Slider::new(&mut settings.batch_size, range.clone())
                .logarithmic(true)
                .clamping(SliderClamping::Never)
                .text("batch size");
            let tip = "Samples per mini-batch: the gradient is their mean";
            if slider(ui, widget, tip, Place::BatchSize) {
                let batch = &mut settings.batch_size;
                notes.push((Place::BatchSize, clamp_note(batch, &range, "batch size")));
                actions.push(SettingsAction::Change(SettingChange::BatchSize(*batch)));
            }
        }
        if hidden.shows(Control::L2) {
            let range = 0.0..=0.1;
            let widget = Slider::new(&mut settings.optimizer.weight_decay, range.clone())
                .logarithmic(true)
                .clamping(SliderClamping::Never)
                .text("L2");
            let tip = "L2 regularization λ: adds (λ/2)·sum w^2 to the loss, λ·w to each weight's gradient";
            if slider(ui, widget, tip, Place::WeightDecay) {
                let decay = &mut settings.optimizer.weight_decay;
                notes.push((Place::WeightDecay, clamp_note(decay, &range, "L2")));
                actions.push(SettingsAction::Change(SettingChange::WeightDecay(*decay)));
            }
        }
        self.dragging = dragging;
        for (place, note) in notes {
            self.set_note(place, note);
        }
        self.run_length_ui(ui, actions);
        if hidden.shows(Control::Seed) {
            ui.horizontal(|ui| {
                ui.label("seed");
                ui.add(DragValue::new(&mut self.draft.seed))
                    .on_hover_text("Seeds the initial weights, the shuffling, dropout and generated data: the same seed gives the same run. Applies on reset");
            });
        }
    }

    /// The loss, switched at once.
    fn loss_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>) {
        let output = self
            .draft
            .layers
            .last()
            .map_or(Activation::Linear, LayerSpec::activation);
        let settings = &mut self.draft.settings;
        ui.horizontal(|ui| {
            ui.label("Loss");
            for loss in Loss::ALL {
                let tip = format!("{}: {}", loss.name(), loss.formula(output));
                if ui
                    .selectable_label(settings.loss == loss, loss.name())
                    .on_hover_text(tip)
                    .clicked()
                    && settings.loss != loss
                {
                    settings.loss = loss;
                    actions.push(SettingsAction::Change(SettingChange::Loss(loss)));
                }
            }
        });
    }

    /// The optimizer and its own settings; true while one of its sliders is dragged.
    fn optimizer_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>) -> bool {
        let settings = &mut self.draft.settings;
        ui.horizontal(|ui| {
            ui.label("Optimizer");
            for optimizer in [Optimizer::Sgd, Optimizer::MOMENTUM, Optimizer::ADAM] {
                let selected = settings.optimizer.optimizer.same_kind(&optimizer);
                if ui
                    .selectable_label(selected, optimizer.name())
                    .on_hover_text(format!(
                        "{}: {} (switching starts it with fresh state)",
                        optimizer.name(),
                        optimizer.formula()
                    ))
                    .clicked()
                    && !selected
                {
                    settings.optimizer.optimizer = optimizer;
                    actions.push(SettingsAction::Change(SettingChange::Optimizer(optimizer)));
                }
            }
        });
        let mut optimizer = settings.optimizer.optimizer;
        let (mut dragging, mut changed) = (false, false);
        let mut take = |r: Response| {
            dragging |= r.dragged();
            changed |= committed(&r);
        };
        match &mut optimizer {
            Optimizer::Sgd => {}
            Optimizer::Momentum { momentum } => take(
                ui.add(Slider::new(momentum, 0.0..=0.99).text("momentum μ"))
                    .on_hover_text("v <- μ·v + g: how much of the last step carries over"),
            ),
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                take(
                    ui.add(Slider::new(beta1, 0.0..=0.999).text("β1"))
                        .on_hover_text("m <- β1·m + (1-β1)·g: decay of the mean of gradients"),
                );
                take(
                    ui.add(Slider::new(beta2, 0.0..=0.9999).text("β2"))
                        .on_hover_text(
                            "v <- β2·v + (1-β2)·g^2: decay of the mean of squared gradients",
                        ),
                );
                take(
                    ui.add(Slider::new(epsilon, 1e-10..=1e-3).logarithmic(true).text("ε"))
                        .on_hover_text(
                            "w <- w - lr·m_hat/(sqrt v_hat + ε): keeps the step finite where v_hat is tiny",
                        ),
                );
            }
        }
        settings.optimizer.optimizer = optimizer;
        if changed {
            actions.push(SettingsAction::Change(SettingChange::Optimizer(optimizer)));
        }
        dragging
    }
}

impl SettingsPanel {
    /// "Stop after N epochs", or never: applies to the running network at once.
    fn run_length_ui(&mut self, ui: &mut Ui, actions: &mut Vec<SettingsAction>) {
        let mut epochs = self.draft.epochs;
        ui.horizontal(|ui| {
            let mut never = epochs.is_none();
            ui.label("Stop after");
            let mut count = epochs.unwrap_or(10);
            let field = ui.add_enabled(
                !never,
                DragValue::new(&mut count).speed(0.5).suffix(" epochs"),
            );
            let field = field
                .on_hover_text("Training pauses on its own after this many epochs, with a summary")
                .accessible_name("Epochs to train");
            if field.changed() {
                let note = clamp_note(&mut count, &(1..=100_000), "epochs");
                self.set_note(Place::RunLength, note);
                epochs = Some(count);
            }
            if ui
                .checkbox(&mut never, "never")
                .on_hover_text("Train until paused")
                .changed()
            {
                epochs = if never { None } else { Some(count) };
            }
        });
        self.note_ui(ui, Place::RunLength);
        if epochs != self.draft.epochs {
            self.draft.epochs = epochs;
            actions.push(SettingsAction::RunLength(epochs));
        }
    }
}

/// A whole-number field that takes what is typed, then keeps it within `range`; the note
/// says when it had to.
fn bounded(
    ui: &mut Ui,
    value: &mut usize,
    range: RangeInclusive<usize>,
    what: &str,
    name: String,
) -> Option<String> {
    let response = ui.add(DragValue::new(value).speed(0.2));
    let response = response
        .on_hover_text(format!("{what}, {} to {}", range.start(), range.end()))
        .accessible_name(name);
    if response.changed() {
        clamp_note(value, &range, what)
    } else {
        None
    }
}

/// The controls of one layer; a note when a typed value had to be moved into range.
fn layer_editor(
    ui: &mut Ui,
    layer: &mut LayerSpec,
    index: usize,
    is_output: bool,
) -> Option<String> {
    let activation_combo = |ui: &mut Ui, activation: &mut Activation, id: usize| {
        ComboBox::from_id_salt(("activation", id))
            .selected_text(activation.name())
            .width(80.0)
            .show_ui(ui, |ui| {
                for a in Activation::ALL {
                    ui.selectable_value(activation, a, a.name())
                        .on_hover_text(a.formula());
                }
            })
            .response
            .accessible_name(format!("Activation of layer {}", id + 1));
    };
    match layer {
        LayerSpec::Dense { units, activation } => {
            ui.label(if is_output { "Output" } else { "Dense" });
            let name = format!("Units of layer {}", index + 1);
            let note = bounded(ui, units, 1..=4096, "units", name);
            activation_combo(ui, activation, index);
            note
        }
        LayerSpec::Conv2d {
            filters,
            kernel,
            padding,
            activation,
        } => {
            ui.label("Conv2d");
            let name = format!("Filters of layer {}", index + 1);
            let mut note = bounded(ui, filters, 1..=256, "filters", name);
            let name = format!("Kernel of layer {}", index + 1);
            note = bounded(ui, kernel, 1..=11, "kernel size", name).or(note);
            ComboBox::from_id_salt(("padding", index))
                .selected_text(padding.name())
                .width(60.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(padding, Padding::Valid, "valid")
                        .on_hover_text("No padding: the output shrinks by kernel - 1");
                    ui.selectable_value(padding, Padding::Same, "same")
                        .on_hover_text("Zero padding: the output keeps the input's size");
                })
                .response
                .accessible_name(format!("Padding of layer {}", index + 1));
            activation_combo(ui, activation, index);
            note
        }
        LayerSpec::MaxPool2d { size } => {
            ui.label("MaxPool");
            let name = format!("Pool size of layer {}", index + 1);
            bounded(ui, size, 1..=8, "pool size", name)
        }
        LayerSpec::Flatten => {
            ui.label("Flatten");
            None
        }
        LayerSpec::Dropout { rate } => {
            ui.label("Dropout");
            let response = ui
                .add(Slider::new(rate, 0.0..=0.9).clamping(SliderClamping::Never))
                .on_hover_text("Probability of zeroing each value while training");
            if response.changed() {
                clamp_note(rate, &(0.0..=0.9), "dropout rate")
            } else {
                None
            }
        }
    }
}

//! Lesson files: a run's setup (its configuration, the views on, the controls students do not
//! see) and the steps a teacher walks a class through, each a short text and the actions that
//! drive the app. A lesson with no steps is a setup to share. Versioned JSON; the format and
//! version are read first, so that a newer file says so rather than failing on a field.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::torch::Framework;
use crate::train::controls::Hidden;
use crate::train::protocol::Goal;
use crate::train::{Phase, Preset, RunConfig, SettingChange};

/// The `format` field every lesson file carries.
pub const FORMAT: &str = "backprop-lab-lesson";
/// The version this program writes; it reads this version and older ones.
pub const VERSION: u32 = 1;
/// The longest lesson file read (a lesson is text and settings: a megabyte is a great deal).
pub const MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum LessonFileError {
    #[error("{source_name}: {}", super::atomic::explain(.cause))]
    Io {
        source_name: String,
        cause: std::io::Error,
    },
    #[error("{source_name}: not a lesson file: {cause}")]
    Json {
        source_name: String,
        cause: serde_json::Error,
    },
    #[error("{source_name}: the format is \"{found}\", expected \"{FORMAT}\"")]
    Format { source_name: String, found: String },
    #[error(
        "{source_name}: lesson file version {found} is newer than this program reads \
         ({VERSION}): a newer Backprop Lab made it"
    )]
    Version { source_name: String, found: u32 },
    #[error("{source_name}: {problem}")]
    Invalid {
        source_name: String,
        problem: String,
    },
}

/// A lesson, or with no steps a setup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub format: String,
    pub version: u32,
    pub title: String,
    /// The run the lesson starts on.
    pub run: RunConfig,
    /// The views on (ids, as `--views` takes them); the first two are the ones presented.
    #[serde(default)]
    pub views: Vec<String>,
    /// The controls students do not see.
    #[serde(default)]
    pub hidden: Hidden,
    #[serde(default)]
    pub steps: Vec<LessonStep>,
}

/// One step: what the class reads, and what the app does when the step is reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonStep {
    /// A few lines: paragraphs, `- ` bullets, **bold**; formulas in plain Unicode.
    pub text: String,
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// What a step does, in order; "play until" waits for its goal before the next action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Start this run afresh (its weights from its seed).
    LoadRun(RunConfig),
    /// Start a preset afresh with a seed.
    LoadPreset {
        preset: String,
        seed: u64,
    },
    /// Change a setting from the next batch on, the weights kept.
    Set(SettingChange),
    /// Train until the goal, then pause.
    PlayUntil(Goal),
    Pause,
    /// Show the views for this test sample.
    Probe(usize),
    /// Switch these views on and every other off.
    ShowViews(Vec<String>),
    /// Step through the next batch (or the one being stepped through) at this phase:
    /// "input", {"forward": 0}, "loss", "output_gradient", {"backward": 1}, {"update": 0},
    /// "check".
    StepThrough(Phase),
    /// Select this unit of this layer in the network view (the step-through follows it).
    Highlight {
        layer: usize,
        unit: usize,
    },
    /// Keep the run's exact state, to come back to.
    Fork,
    /// Back to the fork: its weights, optimizer state, data order and settings.
    BackToFork,
    /// Keep the live run's curves beside the next runs, under this name (1 to 40 characters).
    Pin(String),
    /// The code view writes this framework's code: "pytorch" or "keras".
    ShowCode(Framework),
    /// The weights view lays its layer out so: "matrix", "tiles" or "feature_maps".
    ShowWeights(WeightsLayout),
}

/// How the weights view lays out the selected layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsLayout {
    /// The matrix itself, outputs by inputs.
    #[default]
    Matrix,
    /// One tile per unit (the input's image shape) or per conv filter and input channel.
    Tiles,
    /// A conv layer's output for the probe sample, one tile per filter.
    FeatureMaps,
}

/// Just the fields read before the rest: which format, which version.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Lesson {
    /// A setup to share: the run, the views on and the hidden controls, no steps.
    pub fn setup(title: &str, run: RunConfig, views: Vec<String>, hidden: Hidden) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            title: title.into(),
            run,
            views,
            hidden,
            steps: Vec::new(),
        }
    }

    /// Reads and checks a lesson file.
    pub fn load(path: &Path) -> Result<Self, LessonFileError> {
        let source_name = path.display().to_string();
        let io = |cause| LessonFileError::Io {
            source_name: source_name.clone(),
            cause,
        };
        let length = std::fs::metadata(path).map_err(io)?.len();
        if length > MAX_BYTES as u64 {
            return Err(LessonFileError::Invalid {
                source_name,
                problem: format!(
                    "{length} bytes is far more than a lesson holds (at most {MAX_BYTES})"
                ),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(&bytes, &source_name)
    }

    /// A lesson from its bytes (a file's, or text pasted), named `source_name` in messages.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Self, LessonFileError> {
        let name = || source_name.to_string();
        let json = |cause| LessonFileError::Json {
            source_name: name(),
            cause,
        };
        if bytes.len() > MAX_BYTES {
            return Err(LessonFileError::Invalid {
                source_name: name(),
                problem: format!("{} bytes is far more than a lesson holds", bytes.len()),
            });
        }
        let header: Header = serde_json::from_slice(bytes).map_err(json)?;
        if header.format != FORMAT {
            return Err(LessonFileError::Format {
                source_name: name(),
                found: header.format,
            });
        }
        if header.version > VERSION {
            return Err(LessonFileError::Version {
                source_name: name(),
                found: header.version,
            });
        }
        let lesson: Lesson = serde_json::from_slice(bytes).map_err(json)?;
        lesson.check().map_err(|problem| LessonFileError::Invalid {
            source_name: name(),
            problem,
        })?;
        Ok(lesson)
    }

    /// The lesson as the JSON a file or the clipboard holds.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a lesson is plain data")
    }

    /// Writes the lesson atomically.
    pub fn save(&self, path: &Path) -> Result<(), LessonFileError> {
        super::atomic::write_bytes(path, self.to_json().as_bytes()).map_err(|(target, cause)| {
            LessonFileError::Io {
                source_name: target.display().to_string(),
                cause,
            }
        })
    }

    /// What a lesson must be to be played: views and presets that exist, runs this machine can
    /// start, settings in range. (What depends on the run, a probe index or a phase, is checked
    /// when the step is played.)
    fn check(&self) -> Result<(), String> {
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err("the title must be 1 to 200 characters".into());
        }
        startable(&self.run).map_err(|why| format!("its run cannot start: {why}"))?;
        for (index, step) in self.steps.iter().enumerate() {
            let number = index + 1;
            for action in &step.actions {
                match action {
                    Action::LoadRun(run) => startable(run).map_err(|why| {
                        format!("step {number} loads a run that cannot start: {why}")
                    })?,
                    Action::LoadPreset { preset, .. } if Preset::named(preset).is_none() => {
                        return Err(format!(
                            "step {number} loads a preset \"{preset}\" there is none of"
                        ));
                    }
                    Action::Set(change) => self
                        .run
                        .settings
                        .with(*change)
                        .validate()
                        .map_err(|why| format!("step {number}: {why}"))?,
                    Action::Pin(name) if !(1..=40).contains(&name.trim().chars().count()) => {
                        return Err(format!(
                            "step {number} pins a run as \"{name}\": a pin's name is 1 to 40 \
                             characters"
                        ));
                    }
                    Action::PlayUntil(Goal::TestAccuracy {
                        at_least,
                        within_epochs,
                    }) if !(0.0..=1.0).contains(at_least) || *within_epochs == 0 => {
                        return Err(format!(
                            "step {number} plays until a test accuracy of {at_least} within \
                             {within_epochs} epochs: the accuracy is 0 to 1, the epochs at least 1"
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl Lesson {
    /// Refused if the lesson names a view not among `known` (the window's view ids).
    pub fn check_views(&self, known: &[&str]) -> Result<(), String> {
        let named = self.views.iter().chain(self.steps.iter().flat_map(|step| {
            step.actions.iter().flat_map(|action| match action {
                Action::ShowViews(ids) => ids.as_slice(),
                _ => &[],
            })
        }));
        for id in named {
            if !known.contains(&id.as_str()) {
                return Err(format!(
                    "there is no view \"{id}\" (the views: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// Why `run` cannot start, checked without loading its data.
fn startable(run: &RunConfig) -> Result<(), String> {
    run.settings.validate()?;
    run.check_size().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::controls::Control;

    fn xor() -> RunConfig {
        RunConfig::from_preset(&Preset::named("xor").expect("xor"), 42)
    }

    fn lesson() -> Lesson {
        let mut lesson = Lesson::setup(
            "XOR",
            xor(),
            vec!["curves".into(), "boundary".into()],
            Hidden::of([Control::Seed]),
        );
        lesson.steps.push(LessonStep {
            text: "Train **ten** epochs.".into(),
            actions: vec![
                Action::Set(SettingChange::LearningRate(0.1)),
                Action::PlayUntil(Goal::Epoch(10)),
                Action::ShowViews(vec!["weights".into()]),
            ],
        });
        lesson
    }

    #[test]
    fn a_lesson_reads_back_as_it_was_written() {
        let lesson = lesson();
        let read = Lesson::from_bytes(lesson.to_json().as_bytes(), "x").expect("reads");
        assert_eq!(read, lesson);
        // the actions in the file read as a teacher would write them
        let json = lesson.to_json();
        assert!(json.contains(r#""play_until": {"#), "{json}");
        assert!(json.contains(r#""epoch": 10"#), "{json}");
        assert!(
            json.contains(
                r#""hidden": [
    "seed"
  ]"#
            ),
            "{json}"
        );
    }

    fn refusal(json: &str) -> String {
        Lesson::from_bytes(json.as_bytes(), "lesson.json")
            .expect_err("refused")
            .to_string()
    }

    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut value = serde_json::to_value(lesson()).expect("json");
        edit(&mut value);
        value.to_string()
    }

    #[test]
    fn malformed_newer_and_impossible_lessons_are_refused_with_what_is_wrong() {
        assert!(refusal("{").starts_with("lesson.json: not a lesson file: "));
        assert_eq!(
            refusal(&edited(|v| v["format"] = "backprop-lab-run".into())),
            "lesson.json: the format is \"backprop-lab-run\", expected \"backprop-lab-lesson\""
        );
        // a newer version is said as such even when its fields are not this version's
        let newer = r#"{"format": "backprop-lab-lesson", "version": 2, "chapters": []}"#;
        assert_eq!(
            refusal(newer),
            "lesson.json: lesson file version 2 is newer than this program reads (1): a newer \
             Backprop Lab made it"
        );
        let mut radar = lesson();
        radar.views.push("radar".into());
        let why = radar.check_views(&["curves", "boundary", "weights"]);
        assert_eq!(
            why,
            Err("there is no view \"radar\" (the views: curves, boundary, weights)".into())
        );
        assert_eq!(
            lesson().check_views(&["curves", "boundary", "weights"]),
            Ok(())
        );
        let unknown_control = edited(|v| v["hidden"] = serde_json::json!(["volume"]));
        assert!(refusal(&unknown_control).contains("unknown variant `volume`"));
        let huge = edited(|v| v["run"]["layers"][0]["units"] = 2_000_000_000u64.into());
        assert!(
            refusal(&huge).contains("its run cannot start"),
            "{}",
            refusal(&huge)
        );
        let bad_rate = edited(|v| {
            v["steps"][0]["actions"][0] =
                serde_json::json!({"set": {"setting": "learning_rate", "value": -1.0}})
        });
        assert!(
            refusal(&bad_rate).starts_with("lesson.json: step 1: "),
            "{}",
            refusal(&bad_rate)
        );
        let no_preset = edited(|v| {
            v["steps"][0]["actions"][0] =
                serde_json::json!({"load_preset": {"preset": "moons", "seed": 1}})
        });
        assert!(refusal(&no_preset).contains("\"moons\""));
        let never = edited(
            |v| v["steps"][0]["actions"][1] = serde_json::json!({"play_until": {"test_accuracy": {"at_least": 1.5, "within_epochs": 3}}}),
        );
        assert!(refusal(&never).contains("the accuracy is 0 to 1"));
        let typo = edited(|v| {
            v["steps"][0]["actions"][1] = serde_json::json!({"play_untill": {"epoch": 3}})
        });
        assert!(
            refusal(&typo).contains("unknown variant `play_untill`"),
            "{}",
            refusal(&typo)
        );
        let nameless_pin =
            edited(|v| v["steps"][0]["actions"][2] = serde_json::json!({"pin": "  "}));
        assert!(
            refusal(&nameless_pin).contains("step 1 pins a run as \"  \""),
            "{}",
            refusal(&nameless_pin)
        );
        let named_pin =
            edited(|v| v["steps"][0]["actions"][2] = serde_json::json!({"pin": "no L2"}));
        let read = Lesson::from_bytes(named_pin.as_bytes(), "x").expect("a named pin reads");
        assert_eq!(read.steps[0].actions[2], Action::Pin("no L2".into()));
        // the views' options read as written
        let options = edited(|v| {
            v["steps"][0]["actions"] =
                serde_json::json!([{"show_code": "keras"}, {"show_weights": "feature_maps"}])
        });
        let read = Lesson::from_bytes(options.as_bytes(), "x").expect("view options read");
        assert_eq!(
            read.steps[0].actions,
            [
                Action::ShowCode(Framework::Keras),
                Action::ShowWeights(WeightsLayout::FeatureMaps)
            ]
        );
        let unknown_layout =
            edited(|v| v["steps"][0]["actions"][0] = serde_json::json!({"show_weights": "spiral"}));
        assert!(refusal(&unknown_layout).contains("unknown variant `spiral`"));
        let untitled = edited(|v| v["title"] = " ".into());
        assert!(refusal(&untitled).contains("the title must be"));
        let long = vec![b' '; MAX_BYTES + 1];
        assert!(Lesson::from_bytes(&long, "big").is_err());
    }
}

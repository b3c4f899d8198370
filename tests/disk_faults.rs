//! Saving never loses work: onto a read-only disk, a full disk, a path that is a folder, or over
//! a file another program replaced since it was opened, every save gives a message in plain
//! words, leaves the previous file exactly as it was (and no temporary file behind), and the run
//! goes on. The disks are real: small tmpfs mounts (the tests run as root, as CI does).

#[path = "common/app_harness.rs"]
mod app_harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use app_harness::{App, TIMEOUT, launch, step_until};
use backprop_lab::io::{ModelFile, RunFile, TrainingRecord, safetensors_model};
use backprop_lab::train::{Preset, RunConfig, Trainer};
use backprop_lab::ui::Launch;
use egui_kittest::kittest::Queryable;

/// A tmpfs mounted on a fresh folder for the length of a test.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(options: &str) -> Self {
        let dir = tempfile::tempdir().expect("a folder");
        let tmpfs = Self { dir };
        tmpfs.mount_with(options);
        tmpfs
    }

    fn mount_with(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(self.dir.path())
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a tmpfs ({options}) needs root, as CI has"
        );
    }

    fn read_only(&self) {
        self.mount_with("remount,ro");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fills the disk: nothing more can be written.
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.path("filler")).expect("a filler file");
        let block = vec![7u8; 4096];
        while filler.write_all(&block).is_ok() {}
        // the last partial block, byte by byte
        while filler.write_all(&[7]).is_ok() {}
        let _ = filler.sync_all();
    }

    /// The names in the folder, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("listable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn xor() -> (RunConfig, Trainer) {
    let config = RunConfig::from_preset(&Preset::named("xor").expect("a preset"), 1);
    let mut trainer = config.build().expect("builds");
    for _ in 0..3 {
        trainer.train_batch().expect("trains");
    }
    (config, trainer)
}

/// Every writer (run, JSON model, safetensors model) over `previous` files in `disk`, failing
/// with `reason`: each error names the file and says why, and each previous file is intact.
fn every_writer_fails(disk: &Tmpfs, reason: &str, after_setup: impl FnOnce()) {
    let (config, trainer) = xor();
    let run = disk.path("run.json");
    let json = disk.path("model.json");
    let safetensors = disk.path("model.safetensors");
    RunFile::new(&config, &trainer).save(&run).expect("saved");
    ModelFile::new(trainer.network(), TrainingRecord::of(&config, &trainer))
        .save(&json)
        .expect("saved");
    safetensors_model::save(
        trainer.network(),
        Some(&TrainingRecord::of(&config, &trainer)),
        &safetensors,
    )
    .expect("saved");
    let before: Vec<Vec<u8>> = [&run, &json, &safetensors]
        .map(|p| std::fs::read(p).expect("written"))
        .to_vec();
    let listing = {
        after_setup();
        disk.listing()
    };
    // a longer run: more to write than before
    let (config, mut trainer) = xor();
    for _ in 0..50 {
        trainer.train_batch().expect("trains");
    }
    let errors = [
        RunFile::new(&config, &trainer)
            .save(&run)
            .expect_err("refused")
            .to_string(),
        ModelFile::new(trainer.network(), TrainingRecord::of(&config, &trainer))
            .save(&json)
            .expect_err("refused")
            .to_string(),
        safetensors_model::save(trainer.network(), None, &safetensors)
            .expect_err("refused")
            .to_string(),
    ];
    for (error, path) in errors.iter().zip([&run, &json, &safetensors]) {
        assert!(
            error.starts_with(&format!("{}: {reason} (", path.display())),
            "{error}"
        );
    }
    let after: Vec<Vec<u8>> = [&run, &json, &safetensors]
        .map(|p| std::fs::read(p).expect("still there"))
        .to_vec();
    assert!(after == before, "the previous files are intact");
    assert_eq!(disk.listing(), listing, "no temporary file is left");
}

#[test]
fn a_read_only_disk_refuses_every_save_and_keeps_the_previous_files() {
    let disk = Tmpfs::mount("size=4m");
    every_writer_fails(&disk, "the disk is read-only", || disk.read_only());
}

#[test]
fn a_full_disk_refuses_every_save_and_keeps_the_previous_files() {
    let disk = Tmpfs::mount("size=1m");
    every_writer_fails(&disk, "the disk is full", || disk.fill());
}

#[test]
fn a_path_that_is_a_folder_is_refused_and_the_folder_is_untouched() {
    let dir = tempfile::tempdir().expect("a folder");
    let folder = dir.path().join("runs");
    std::fs::create_dir(&folder).expect("made");
    std::fs::write(folder.join("inside.txt"), "kept").expect("written");
    let (config, trainer) = xor();
    let error = RunFile::new(&config, &trainer)
        .save(&folder)
        .expect_err("refused")
        .to_string();
    assert!(
        error.starts_with(&format!(
            "{}: that is a folder, not a file (",
            folder.display()
        )),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("inside.txt")).expect("kept"),
        "kept"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("listable").collect();
    assert_eq!(names.len(), 1, "no temporary file is left");
}

/// The app playing spiral at full speed (every save a later step), its run saved to `path` with
/// Save run as.
fn playing_and_saved_to(path: &Path) -> App {
    let mut harness = launch(Launch {
        preset: Some("spiral".into()),
        play: true,
        full_speed: true,
        ..Launch::default()
    });
    harness.state_mut().save_run_to(path.to_path_buf());
    step_until(&mut harness, "the run is saved", |_| path.exists());
    harness.run_steps(2);
    harness.get_by_label_contains("Saved the run to");
    harness
}

/// Ctrl+S, then frames until the note that comes of it shows.
fn save_with_ctrl_s(harness: &mut App, note: &str) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    until_note(harness, note);
}

/// Frames until a label containing `note` shows.
fn until_note(harness: &mut App, note: &str) {
    let started = Instant::now();
    while harness.query_by_label_contains(note).is_none() {
        assert!(started.elapsed() < TIMEOUT, "no note {note:?}");
        harness.step();
    }
}

/// Ctrl+S while the run trains, until the file at `path` changes.
fn saved_again_with_ctrl_s(harness: &mut App, path: &Path) {
    let before = std::fs::read(path).expect("there");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    let started = Instant::now();
    while std::fs::read(path).expect("there") == before {
        assert!(started.elapsed() < TIMEOUT, "not saved again");
        harness.step();
    }
    harness.get_by_label_contains("Saved the run to");
    assert!(RunFile::load(path).is_ok());
}

/// The run goes on training after a failed save.
fn goes_on(harness: &mut App) {
    let step = harness.state().run_view().status.step;
    step_until(harness, "the run trains on", |app| {
        app.run_view().status.step > step + 10
    });
}

#[test]
fn in_the_app_a_save_onto_a_read_only_or_full_disk_says_why_and_the_run_goes_on() {
    let disk = Tmpfs::mount("size=4m");
    let path = disk.path("spiral.json");
    let mut harness = playing_and_saved_to(&path);
    let before = std::fs::read(&path).expect("saved");

    disk.read_only();
    save_with_ctrl_s(&mut harness, "the disk is read-only");
    harness.get_by_label_contains("The run was not saved: ");
    assert_eq!(std::fs::read(&path).expect("there"), before);
    goes_on(&mut harness);

    // the same disk, writable again but full
    disk.mount_with("remount,rw");
    disk.fill();
    save_with_ctrl_s(&mut harness, "the disk is full");
    harness.get_by_label_contains("The run was not saved: ");
    assert_eq!(std::fs::read(&path).expect("there"), before);
    assert_eq!(disk.listing(), ["filler", "spiral.json"]);
    goes_on(&mut harness);

    // room again: Ctrl+S saves
    std::fs::remove_file(disk.path("filler")).expect("removed");
    saved_again_with_ctrl_s(&mut harness, &path);
}

#[test]
fn in_the_app_a_file_replaced_by_another_program_is_not_saved_over() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("spiral.json");
    let mut harness = playing_and_saved_to(&path);

    // another program replaces the file (a new file renamed over it)
    let replacement = dir.path().join("other.json");
    std::fs::write(&replacement, "{\"someone else's\": true}").expect("written");
    std::fs::rename(&replacement, &path).expect("replaced");
    save_with_ctrl_s(&mut harness, "was changed or replaced by another program");
    assert_eq!(
        std::fs::read_to_string(&path).expect("there"),
        "{\"someone else's\": true}"
    );
    goes_on(&mut harness);

    // Save run as over it is the user's choice: it is written, and Ctrl+S works again
    harness.state_mut().save_run_to(path.clone());
    step_until(&mut harness, "the run is saved", |_| {
        RunFile::load(&path).is_ok()
    });
    saved_again_with_ctrl_s(&mut harness, &path);
}

#[test]
fn in_the_app_saving_to_a_folder_says_so() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut harness = launch(Launch {
        preset: Some("xor".into()),
        ..Launch::default()
    });
    harness.state_mut().save_run_to(dir.path().to_path_buf());
    until_note(&mut harness, "that is a folder, not a file");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listable").count(),
        0,
        "nothing was written"
    );
}

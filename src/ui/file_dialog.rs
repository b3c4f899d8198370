//! The system's file dialogs, and saying so when there are none: on Linux they are a desktop
//! service (xdg-desktop-portal) that a bare X server or a minimal desktop may not run, and then a
//! dialog would silently not open.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// The D-Bus name of the desktop portal that shows file dialogs.
const PORTAL: &str = "org.freedesktop.portal.Desktop";

/// What to say when there is no dialog; `field` names where to type the path instead.
pub fn unavailable_message(field: &str) -> String {
    format!(
        "This system has no file-dialog service (xdg-desktop-portal is not running), so no \
         dialog can open. Type the path in {field}, or drop the file on the window."
    )
}

static AVAILABLE: OnceLock<bool> = OnceLock::new();

/// Whether a file dialog can open here (asked once; a bus that does not answer within a
/// second counts as none).
pub fn available() -> bool {
    *AVAILABLE.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            return true;
        }
        let (sender, answer) = std::sync::mpsc::channel();
        let asked = std::thread::Builder::new()
            .name("file-dialog check".into())
            .spawn(move || {
                let _ = sender.send(portal_on_session_bus());
            });
        asked.is_ok() && answer.recv_timeout(Duration::from_secs(1)).unwrap_or(false)
    })
}

/// From now on, behave as a system without a file-dialog service (tests: a real dialog would
/// wait for a person). False if whether there is one was already decided otherwise.
#[doc(hidden)]
pub fn pretend_unavailable() -> bool {
    AVAILABLE.get_or_init(|| false) == &false
}

/// The portal runs, or the session bus can start it.
fn portal_on_session_bus() -> bool {
    pollster::block_on(async {
        let Ok(connection) = zbus::Connection::session().await else {
            return false;
        };
        let Ok(bus) = zbus::fdo::DBusProxy::new(&connection).await else {
            return false;
        };
        let Ok(name) = zbus::names::BusName::try_from(PORTAL) else {
            return false;
        };
        if bus.name_has_owner(name).await.unwrap_or(false) {
            return true;
        }
        bus.list_activatable_names()
            .await
            .is_ok_and(|names| names.iter().any(|n| n.as_str() == PORTAL))
    })
}

/// A file picked in the system's dialog: Ok(None) if the user cancelled, Err with what to do
/// instead when there is no dialog. `filter`: (name, extensions).
pub fn pick_file(
    title: &str,
    filter: (&str, &[&str]),
    field: &str,
) -> Result<Option<PathBuf>, String> {
    if !available() {
        return Err(unavailable_message(field));
    }
    Ok(rfd::FileDialog::new()
        .set_title(title)
        .add_filter(filter.0, filter.1)
        .pick_file())
}

/// A folder picked in the system's dialog, as [`pick_file`].
pub fn pick_folder(title: &str, field: &str) -> Result<Option<PathBuf>, String> {
    if !available() {
        return Err(unavailable_message(field));
    }
    Ok(rfd::FileDialog::new().set_title(title).pick_folder())
}

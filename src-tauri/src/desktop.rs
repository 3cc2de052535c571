//! The desktop around the window: the tray with the overall status and Quit, and
//! notifications when a service fails or recovers while nobody is looking.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

/// The tray's menu item that shows the overall status.
pub const STATUS_ITEM: &str = "status";

/// Builds the tray. A desktop without a tray (or without its library) gets none: the
/// app works the same from its window.
pub fn build_tray<R: Runtime>(app: &AppHandle<R>) {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> tauri::Result<()> {
        let status = MenuItem::with_id(
            app,
            STATUS_ITEM,
            "ClaraVerse is starting…",
            false,
            None::<&str>,
        )?;
        let quit = MenuItem::with_id(app, "quit", "Quit ClaraVerse", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&status, &quit])?;
        let mut tray = TrayIconBuilder::with_id("main")
            .menu(&menu)
            .tooltip("ClaraVerse");
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        tray.on_menu_event(|app, event| {
            if event.id().as_ref() == "quit" {
                app.exit(0);
            }
        })
        .build(app)?;
        app.manage(TrayStatus(status));
        Ok(())
    }));
    match built {
        Ok(Ok(())) => {}
        Ok(Err(error)) => log::warn!("no tray icon: {error}"),
        Err(_) => log::warn!("no tray icon: this desktop has no tray support"),
    }
}

/// The tray's status line, when there is a tray.
pub struct TrayStatus<R: Runtime>(MenuItem<R>);

/// Shows the overall status in the tray.
pub fn show_status<R: Runtime>(app: &AppHandle<R>, text: &str) {
    if let Some(status) = app.try_state::<TrayStatus<R>>() {
        if let Err(error) = status.0.set_text(text) {
            log::warn!("cannot update the tray: {error}");
        }
    }
}

/// Whether the main window has the focus, kept up to date from window events (asking the
/// window from another thread would wait on the main thread).
static WINDOW_FOCUSED: AtomicBool = AtomicBool::new(false);

/// Records a focus change of the main window.
pub fn window_focused(focused: bool) {
    WINDOW_FOCUSED.store(focused, Ordering::Relaxed);
}

/// Notifies the desktop, unless the window is in front of the user already.
pub fn notify_if_away<R: Runtime>(_app: &AppHandle<R>, text: &str) {
    if WINDOW_FOCUSED.load(Ordering::Relaxed) {
        return;
    }
    let text = text.to_string();
    // Talking to the notification service may block: keep it off the async threads.
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = notify_rust::Notification::new()
            .summary("ClaraVerse")
            .body(&text)
            .show()
        {
            log::info!("no desktop notification ({error}): {text}");
        }
    });
}

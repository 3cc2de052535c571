//! Generates the Tauri context, with a permission for each of the app's commands so the
//! capability file can allow exactly those.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_services",
        "start_service",
        "stop_service",
        "restart_service",
        "retry_startup",
        "continue_without",
        "get_features",
        "preview_features",
        "set_features",
        "service_logs",
        "follow_logs",
        "unfollow_logs",
        "open_service_url",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("the Tauri build step failed");
}

//! The first run's feature picker: each feature with what it needs (Docker, a GPU, a
//! download) and whether this machine has it. Nothing here starts or pulls anything.

use std::collections::BTreeSet;

use clara_supervisor::definitions::{Definitions, GpuMode, RuntimeKind};
use clara_supervisor::runtime::docker::DockerEngine;
use clara_supervisor::selection::{self, FeatureChoice};
use serde::Serialize;
use ts_rs::TS;

use crate::views::{FeatureView, features};

/// What the welcome view shows.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
pub struct Welcome {
    /// Every feature, with what it needs.
    pub features: Vec<WelcomeFeature>,
    /// What this machine has.
    pub machine: Machine,
}

/// A feature in the picker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct WelcomeFeature {
    /// The feature as Settings shows it.
    #[serde(flatten)]
    pub feature: FeatureView,
    /// What turning it on needs.
    pub needs: Needs,
}

/// What a feature needs of the machine.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct Needs {
    /// Some of its services are containers.
    pub docker: bool,
    /// Whether a container of it uses an NVIDIA GPU.
    pub gpu: Option<GpuNeed>,
    /// Roughly how much turning it on downloads, when its services say.
    pub download_bytes: Option<u64>,
}

/// How much a feature needs an NVIDIA GPU.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "lowercase")]
pub enum GpuNeed {
    /// It does not run without one.
    Required,
    /// It uses one when there is one, else the CPU.
    Optional,
}

/// What this machine has, as far as the features care.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// The Docker engine.
    pub docker: Fact,
    /// An NVIDIA GPU that containers can use.
    pub gpu: Fact,
}

/// Whether the machine has something, and a sentence about it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct Fact {
    /// It is there.
    pub available: bool,
    /// Where, or why not.
    pub detail: String,
}

/// The welcome view for `definitions`, with `enabled` checked.
pub async fn welcome(definitions: &Definitions, enabled: &BTreeSet<String>) -> Welcome {
    Welcome {
        features: features(definitions, enabled)
            .into_iter()
            .map(|feature| WelcomeFeature {
                needs: needs(definitions, &feature.name),
                feature,
            })
            .collect(),
        machine: machine().await,
    }
}

/// What turning on `feature` alone adds to what always runs: its services and what they
/// pull in.
pub fn needs(definitions: &Definitions, feature: &str) -> Needs {
    let select = |features: BTreeSet<String>| {
        selection::select(definitions, &FeatureChoice::Only(features))
            .map(|selection| selection.services)
            .unwrap_or_default()
    };
    let always = select(BTreeSet::new());
    let with = select(BTreeSet::from([feature.to_string()]));
    let mut needs = Needs::default();
    let mut download = None;
    for service in with
        .difference(&always)
        .filter_map(|name| definitions.services.get(name))
    {
        if matches!(service.runtime, RuntimeKind::Container { .. }) {
            needs.docker = true;
            needs.gpu = match (needs.gpu, service.gpu) {
                (_, GpuMode::Required) | (Some(GpuNeed::Required), _) => Some(GpuNeed::Required),
                (_, GpuMode::Auto) | (Some(GpuNeed::Optional), _) => Some(GpuNeed::Optional),
                (gpu, GpuMode::Off) => gpu,
            };
        }
        if let Some(bytes) = service.download_bytes {
            download = Some(download.unwrap_or(0) + bytes);
        }
    }
    needs.download_bytes = download;
    needs
}

/// Asks Docker whether it runs and offers the NVIDIA runtime; touches no container.
async fn machine() -> Machine {
    match DockerEngine::new(None, "", BTreeSet::new()).probe().await {
        Ok(connection) => Machine {
            docker: Fact {
                available: true,
                detail: format!(
                    "Docker {} is running at {}",
                    connection.version, connection.address
                ),
            },
            gpu: Fact {
                available: connection.nvidia,
                detail: if connection.nvidia {
                    "Docker can use this machine's NVIDIA GPU".to_string()
                } else {
                    "Docker has no NVIDIA GPU runtime here: containers run on the CPU".to_string()
                },
            },
        },
        Err(error) => Machine {
            docker: Fact {
                available: false,
                detail: error.message,
            },
            gpu: Fact {
                available: false,
                detail: "Containers can use a GPU only once Docker runs".to_string(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clara_supervisor::definitions::Variables;
    use clara_supervisor::diagnostics::SourceFile;
    use clara_supervisor::load::{self, LoadOptions};
    use clara_supervisor::platform::Platform;

    fn load(text: &str) -> Definitions {
        let options = LoadOptions {
            platform: Platform::Linux,
            variables: Variables::new([], "/home/u/.local/share/ClaraVerse"),
            features: FeatureChoice::Defaults,
        };
        load::load(&SourceFile::new("t.toml", text.to_string()), &options)
            .expect("valid")
            .definitions
    }

    #[test]
    fn a_feature_needs_what_its_services_and_their_dependencies_need() {
        let definitions = load(
            r#"
[features.images]
label = "Images"
[features.chat]
label = "Chat"
[features.tools]
label = "Tools"

[services.docker]
engine = "docker"

[services.backend]
feature = "chat"
image = "b:1"
download = "2 GB"

[services.comfy]
feature = "images"
image = "c:1"
gpu = "auto"
download = "8 GB"
depends_on = ["backend"]

[services.core]
feature = "tools"
command = ["core"]
download = "30 MB"
"#,
        );
        assert_eq!(
            needs(&definitions, "images"),
            Needs {
                docker: true,
                gpu: Some(GpuNeed::Optional),
                download_bytes: Some(10_000_000_000),
            },
            "comfy pulls the backend in"
        );
        assert_eq!(
            needs(&definitions, "chat"),
            Needs {
                docker: true,
                gpu: None,
                download_bytes: Some(2_000_000_000),
            }
        );
        assert_eq!(
            needs(&definitions, "tools"),
            Needs {
                docker: false,
                gpu: None,
                download_bytes: Some(30_000_000),
            }
        );
    }
}

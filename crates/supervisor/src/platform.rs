//! The operating systems a definitions file can target, and which one we run on.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// An operating system that `[services.X.platform.NAME]` overrides can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux, any distribution.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

impl Platform {
    /// Every platform, in the order used in messages.
    pub const ALL: [Platform; 3] = [Platform::Linux, Platform::Macos, Platform::Windows];

    /// The platform this program was built for. Other Unix systems count as Linux:
    /// they share its paths and process model closely enough for service definitions.
    pub fn current() -> Platform {
        if cfg!(target_os = "windows") {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::Macos
        } else {
            Platform::Linux
        }
    }

    /// The name used in definitions files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
            Platform::Windows => "windows",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a platform name that is not one of `linux`, `macos`, `windows`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform \"{0}\" (expected linux, macos or windows)")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|platform| platform.name() == name)
            .ok_or_else(|| UnknownPlatform(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(platform.name().parse::<Platform>(), Ok(platform));
        }
    }

    #[test]
    fn unknown_name_is_explained() {
        let error = "darwin".parse::<Platform>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown platform \"darwin\" (expected linux, macos or windows)"
        );
    }

    #[test]
    fn current_platform_matches_the_build() {
        #[cfg(target_os = "linux")]
        assert_eq!(Platform::current(), Platform::Linux);
        #[cfg(target_os = "macos")]
        assert_eq!(Platform::current(), Platform::Macos);
        #[cfg(target_os = "windows")]
        assert_eq!(Platform::current(), Platform::Windows);
    }
}

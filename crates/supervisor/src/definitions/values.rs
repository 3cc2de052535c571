//! Parsers for the small string formats inside definitions: durations, sizes, ports,
//! volumes.
//! Each error is a sentence fragment that follows the key's name.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::model::{PortMapping, Protocol, Volume, VolumeSource};

/// The longest duration a definition may give: 30 days. Every wait and delay the
/// supervisor computes from definitions stays far from the limits of time arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Parses `"250ms"`, `"5s"`, `"2m"`, `"1h 30m"`, up to [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim()).map_err(|error| match error {
        humantime::DurationError::NumberOverflow => too_long(text),
        _ => format!("\"{text}\" is not a duration (write a number and a unit, like \"250ms\", \"5s\" or \"2m\")"),
    })?;
    if duration > MAX_DURATION {
        return Err(too_long(text));
    }
    Ok(duration)
}

fn too_long(text: &str) -> String {
    format!("\"{text}\" is too long (at most 30 days)")
}

/// Parses a size in bytes: `"4.5 GB"`, `"800MB"`, `"1.2 GiB"`, `"512 B"`. A number
/// (decimals allowed), an optional space, then a unit, decimal (`B`, `kB`, `MB`, `GB`, `TB`:
/// 1 kB = 1000 B) or binary (`KiB`, `MiB`, `GiB`, `TiB`: 1 KiB = 1024 B), in any case
/// (`KB` is `kB`). Rounded to the nearest byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("\"{text}\" is not a size (write it like \"4.5 GB\")");
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(digits_end);
    let unit: u128 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    // At most 18 decimals keeps every product below u128::MAX.
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') || fraction.len() > 18 {
        return Err(bad());
    }
    let value = |digits: &str| -> Result<u128, String> {
        if digits.is_empty() {
            Ok(0)
        } else {
            digits.parse().map_err(|_| bad())
        }
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let fraction_bytes = (value(fraction)? * unit + scale / 2) / scale;
    let bytes = value(whole)?
        .checked_mul(unit)
        .and_then(|bytes| bytes.checked_add(fraction_bytes))
        .ok_or_else(bad)?;
    u64::try_from(bytes).map_err(|_| bad())
}

/// Parses `[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]` or `[HOST_IP:]PORT[/…]`.
///
/// The host address defaults to 127.0.0.1, so nothing is reachable from other machines
/// unless the file says so; IPv6 addresses are written in brackets: `[::1]:8080:80`.
pub fn parse_port(text: &str) -> Result<PortMapping, String> {
    let bad = |why: &str| {
        format!(
            "\"{text}\" is not a port mapping: {why} (write \"5001:5000\", \"127.0.0.1:5001:5000\" or \"8091\")"
        )
    };
    let (address, protocol) = match text.rsplit_once('/') {
        Some((address, "tcp")) => (address, Protocol::Tcp),
        Some((address, "udp")) => (address, Protocol::Udp),
        Some((_, other)) => return Err(bad(&format!("unknown protocol \"{other}\""))),
        None => (text, Protocol::Tcp),
    };
    let (host_ip, ports) = split_host_ip(address).map_err(|why| bad(&why))?;
    // Digits only, without a sign or a leading zero: "+80" and "00080" are typos.
    let number = |part: &str| match part.parse::<u16>() {
        Ok(port)
            if port > 0 && part.bytes().all(|b| b.is_ascii_digit()) && !part.starts_with('0') =>
        {
            Ok(port)
        }
        _ => Err(bad(&format!(
            "\"{part}\" is not a port number from 1 to 65535"
        ))),
    };
    let (host_port, container_port) = match ports.split_once(':') {
        Some((host, container)) => (number(host)?, number(container)?),
        None => {
            let port = number(ports)?;
            (port, port)
        }
    };
    Ok(PortMapping {
        host_ip: host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        host_port,
        container_port,
        protocol,
        location: None,
    })
}

/// Splits a leading IP address (`1.2.3.4:` or `[::1]:`) from the ports.
fn split_host_ip(text: &str) -> Result<(Option<IpAddr>, &str), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, ports) = rest
            .split_once("]:")
            .ok_or_else(|| "an IPv6 address needs \"]:\" after it".to_string())?;
        let ip = ip
            .parse()
            .map_err(|_| format!("\"{ip}\" is not an IP address"))?;
        return Ok((Some(ip), ports));
    }
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [_] | [_, _] if !parts[0].contains('.') => Ok((None, text)),
        [ip, ..] if parts.len() <= 3 => {
            let parsed = ip
                .parse()
                .map_err(|_| format!("\"{ip}\" is not an IP address"))?;
            Ok((Some(parsed), &text[ip.len() + 1..]))
        }
        _ => Err("too many \":\"".to_string()),
    }
}

/// Parses `SOURCE:TARGET[:ro|:rw]`. A source that is an absolute path (also `C:\…` on
/// Windows) is a bind mount; a plain name is a Docker named volume.
pub fn parse_volume(text: &str) -> Result<Volume, String> {
    let bad = |why: &str| {
        format!(
            "\"{text}\" is not a volume: {why} (write \"/host/path:/container/path\" or \"name:/container/path\", optionally followed by \":ro\")"
        )
    };
    // A Windows drive letter ("C:\" or "C:/") is part of the source, not a separator.
    let drive_prefix = match text.as_bytes() {
        [letter, b':', b'\\' | b'/', ..] if letter.is_ascii_alphabetic() => 2,
        _ => 0,
    };
    let mut parts = text[drive_prefix..].splitn(3, ':');
    let source_rest = parts.next().unwrap_or_default();
    let source = &text[..drive_prefix + source_rest.len()];
    let target = parts.next().ok_or_else(|| bad("it has no target"))?;
    let read_only = match parts.next() {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(bad(&format!("unknown mode \"{other}\", expected ro or rw"))),
    };
    if source.is_empty() {
        return Err(bad("the source is empty"));
    }
    if !target.starts_with('/') {
        return Err(bad(&format!(
            "the target \"{target}\" is not an absolute path"
        )));
    }
    let is_path = source.starts_with('/') || source.starts_with('\\') || drive_prefix > 0;
    let source = if is_path {
        VolumeSource::Bind(PathBuf::from(source))
    } else if source
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        VolumeSource::Named(source.to_string())
    } else {
        return Err(bad(&format!(
            "the source \"{source}\" is neither an absolute path nor a volume name"
        )));
    };
    Ok(Volume {
        source,
        target: target.to_string(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_at_most_thirty_days() {
        assert_eq!(parse_duration("30 days"), Ok(MAX_DURATION));
        assert_eq!(
            parse_duration("31 days"),
            Err("\"31 days\" is too long (at most 30 days)".to_string())
        );
        assert_eq!(
            parse_duration("18446744073709551615s"),
            Err("\"18446744073709551615s\" is too long (at most 30 days)".to_string())
        );
        assert_eq!(
            parse_duration("99999999999999999999999s"),
            Err("\"99999999999999999999999s\" is too long (at most 30 days)".to_string())
        );
    }

    #[test]
    fn durations_in_the_usual_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn bad_duration_message() {
        assert_eq!(
            parse_duration("5 sec0nds").unwrap_err(),
            "\"5 sec0nds\" is not a duration (write a number and a unit, like \"250ms\", \"5s\" or \"2m\")"
        );
        assert!(parse_duration("5").is_err(), "a unit is required");
    }

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_size("4.5 GB"), Ok(4_500_000_000));
        assert_eq!(parse_size("4.5GB"), Ok(4_500_000_000));
        assert_eq!(parse_size("800 MB"), Ok(800_000_000));
        assert_eq!(parse_size("12 kB"), Ok(12_000));
        assert_eq!(parse_size("12 KB"), Ok(12_000));
        assert_eq!(parse_size("2 TB"), Ok(2_000_000_000_000));
        assert_eq!(parse_size("512 B"), Ok(512));
        assert_eq!(parse_size("1 KiB"), Ok(1024));
        assert_eq!(parse_size("1.5 MiB"), Ok(1_572_864));
        assert_eq!(parse_size("1.2 GiB"), Ok(1_288_490_189));
        assert_eq!(parse_size("1 TiB"), Ok(1 << 40));
        assert_eq!(parse_size(".5 kB"), Ok(500));
        assert_eq!(parse_size("3. MB"), Ok(3_000_000));
        assert_eq!(parse_size("0 B"), Ok(0));
        assert_eq!(parse_size("1.5 B"), Ok(2), "rounded to the nearest byte");
        assert_eq!(parse_size(" 13.6 gb "), Ok(13_600_000_000));
    }

    #[test]
    fn bad_size_message() {
        assert_eq!(
            parse_size("12 parsecs").unwrap_err(),
            "\"12 parsecs\" is not a size (write it like \"4.5 GB\")"
        );
        for bad in [
            "",
            "GB",
            "4.5",
            "4,5 GB",
            "1.2.3 GB",
            "-1 GB",
            ". GB",
            "4.5 G B",
            "1e3 MB",
            "20000000 TB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} is not a size");
        }
        assert_eq!(parse_size("18446744073709551615 B"), Ok(u64::MAX));
        assert!(parse_size("18446744073709551616 B").is_err(), "too large");
    }

    fn port(host_ip: &str, host_port: u16, container_port: u16, protocol: Protocol) -> PortMapping {
        PortMapping {
            host_ip: host_ip.parse().expect("test IP"),
            host_port,
            container_port,
            protocol,
            location: None,
        }
    }

    #[test]
    fn port_forms() {
        assert_eq!(
            parse_port("127.0.0.1:5001:5000"),
            Ok(port("127.0.0.1", 5001, 5000, Protocol::Tcp))
        );
        assert_eq!(
            parse_port("5001:5000"),
            Ok(port("127.0.0.1", 5001, 5000, Protocol::Tcp))
        );
        assert_eq!(
            parse_port("8091"),
            Ok(port("127.0.0.1", 8091, 8091, Protocol::Tcp))
        );
        assert_eq!(
            parse_port("127.0.0.1:8091"),
            Ok(port("127.0.0.1", 8091, 8091, Protocol::Tcp))
        );
        assert_eq!(
            parse_port("0.0.0.0:53:53/udp"),
            Ok(port("0.0.0.0", 53, 53, Protocol::Udp))
        );
        assert_eq!(
            parse_port("[::1]:8080:80"),
            Ok(port("::1", 8080, 80, Protocol::Tcp))
        );
    }

    #[test]
    fn bad_ports_are_explained() {
        assert_eq!(
            parse_port("70000:80").unwrap_err(),
            "\"70000:80\" is not a port mapping: \"70000\" is not a port number from 1 to 65535 (write \"5001:5000\", \"127.0.0.1:5001:5000\" or \"8091\")"
        );
        assert!(
            parse_port("1.2.3:80:80")
                .unwrap_err()
                .contains("\"1.2.3\" is not an IP address")
        );
        assert!(
            parse_port("80/sctp")
                .unwrap_err()
                .contains("unknown protocol \"sctp\"")
        );
        assert!(
            parse_port("1:2:3:4")
                .unwrap_err()
                .contains("too many \":\"")
        );
        assert!(
            parse_port("0")
                .unwrap_err()
                .contains("\"0\" is not a port number")
        );
    }

    #[test]
    fn volume_forms() {
        let bind = parse_volume("/home/u/.clara/python:/home/clara/.clara:ro").expect("valid");
        assert_eq!(
            bind.source,
            VolumeSource::Bind("/home/u/.clara/python".into())
        );
        assert_eq!(bind.target, "/home/clara/.clara");
        assert!(bind.read_only);
        let named = parse_volume("clara_models:/models").expect("valid");
        assert_eq!(named.source, VolumeSource::Named("clara_models".into()));
        assert!(!named.read_only);
        let windows = parse_volume(r"C:\Users\u\ClaraVerse\n8n:/home/node/.n8n").expect("valid");
        assert_eq!(
            windows.source,
            VolumeSource::Bind(r"C:\Users\u\ClaraVerse\n8n".into())
        );
        assert_eq!(windows.target, "/home/node/.n8n");
    }

    #[test]
    fn bad_volumes_are_explained() {
        assert_eq!(
            parse_volume("/data").unwrap_err(),
            "\"/data\" is not a volume: it has no target (write \"/host/path:/container/path\" or \"name:/container/path\", optionally followed by \":ro\")"
        );
        assert!(
            parse_volume("/a:b")
                .unwrap_err()
                .contains("the target \"b\" is not an absolute path")
        );
        assert!(
            parse_volume("/a:/b:rx")
                .unwrap_err()
                .contains("unknown mode \"rx\"")
        );
        assert!(
            parse_volume("./data:/b")
                .unwrap_err()
                .contains("neither an absolute path nor a volume name")
        );
    }
}

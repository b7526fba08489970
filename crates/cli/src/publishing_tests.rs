//! The flags, the environment and the `[nats]` table into the sink's settings.
#![allow(clippy::unwrap_used)]

use super::*;

fn args() -> NatsArgs {
    NatsArgs {
        nats: Some("nats://127.0.0.1:4222".into()),
        ..NatsArgs::default()
    }
}

#[test]
fn credentials_come_from_one_source() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(args().auth(env(&[])).unwrap(), NatsAuth::None);
    assert_eq!(
        args().auth(env(&[(TOKEN_ENV, "s3cret")])).unwrap(),
        NatsAuth::Token("s3cret".into())
    );
    assert_eq!(
        args()
            .auth(env(&[(USER_ENV, "u"), (PASSWORD_ENV, "p")]))
            .unwrap(),
        NatsAuth::UserPassword {
            user: "u".into(),
            password: "p".into()
        }
    );
    assert!(args().auth(env(&[(USER_ENV, "u")])).is_err());
    assert!(
        args()
            .auth(env(&[(TOKEN_ENV, "t"), (NKEY_ENV, "SU")]))
            .is_err()
    );
}

#[test]
fn nats_options_need_a_url() {
    let lone = NatsArgs {
        nats_stream: Some("X".into()),
        ..NatsArgs::default()
    };
    assert!(lone.resolve(None).is_err());
    assert!(NatsArgs::default().resolve(None).unwrap().is_none());
    let bad_prefix = NatsArgs {
        nats_prefix: Some("a.*".into()),
        ..args()
    };
    assert!(bad_prefix.resolve(None).is_err());
}

const FILE: &str = r#"
[[target]]
exchange = "bitmex"
symbols = ["XBTUSD"]

[nats]
url = "nats://10.0.0.1:4222"
prefix = "md"
stream = "QUOTES"
max_age = "2h"
max_bytes = "64MiB"
duplicate_window = "5m"
storage = "memory"
replicas = 3
"#;

#[test]
fn the_nats_table_sets_the_stream_and_flags_win() {
    let config = crate::config::parse(FILE, "deploy.toml").unwrap();
    let file = config.nats.unwrap();
    let settings = NatsArgs::default().resolve(Some(&file)).unwrap().unwrap();
    let c = &settings.config;
    assert_eq!(c.urls, vec!["nats://10.0.0.1:4222".to_string()]);
    assert_eq!(
        (c.prefix.as_str(), c.stream.name.as_str()),
        ("md", "QUOTES")
    );
    assert_eq!(c.stream.max_age, Duration::from_secs(7200));
    assert_eq!(c.stream.max_bytes, Some(64 << 20));
    assert_eq!(c.stream.duplicate_window, Duration::from_secs(300));
    assert_eq!((c.stream.storage, c.stream.replicas), (Storage::Memory, 3));
    let flags = NatsArgs {
        nats_prefix: Some("flag".into()),
        ..args()
    };
    let settings = flags.resolve(Some(&file)).unwrap().unwrap();
    assert_eq!(
        settings.config.urls,
        vec!["nats://127.0.0.1:4222".to_string()]
    );
    assert_eq!(settings.config.prefix, "flag");
}

#[test]
fn the_nats_table_refuses_unknown_keys_and_bad_values_with_their_line() {
    let unknown = FILE.replace("replicas = 3", "replica = 3");
    let error = crate::config::parse(&unknown, "deploy.toml").unwrap_err();
    assert!(error.0.starts_with("deploy.toml:14:"), "{error}");
    let bad = FILE.replace("\"memory\"", "\"tape\"");
    let error = crate::config::parse(&bad, "deploy.toml").unwrap_err();
    assert!(
        error.0.starts_with("deploy.toml:13:") && error.0.contains("storage"),
        "{error}"
    );
    let short = FILE.replace("max_age = \"2h\"", "max_age = \"1m\"");
    let file = crate::config::parse(&short, "deploy.toml").unwrap().nats;
    let error = NatsArgs::default().resolve(file.as_ref()).unwrap_err();
    assert!(error.0.contains("duplicates window"), "{error}");
}

//! The command line's targets and URLs, from argv to connection plans, as
//! `collector fetch` / `collector serve` check them before any I/O:
//! clap (`Cli`, with its own value parsers), `plan::targets`
//! (`EXCHANGE SYMBOL`, `EXCHANGE:SYMBOL …`), `plan::url_overrides`
//! (`--url URL`, `--url EXCHANGE=URL`) and `plan::connections`.
//!
//! Input: the arguments after `collector`, separated by spaces. Checks: no
//! panic; every planned connection is of a known exchange, has a URL, and
//! every target is subscribed on exactly one connection; a `--url` given
//! for an exchange is where all of its connections go.
#![no_main]

use clap::Parser;
use libfuzzer_sys::fuzz_target;
use mercury_cli::args::{Cli, Command};
use mercury_cli::plan::{self, Base};
use mercury_cli::{UsageError, registry};
use mercury_core::Exchange;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let argv = std::iter::once("collector").chain(text.split(' '));
    let Ok(cli) = Cli::try_parse_from(argv) else {
        return;
    };
    let source = match &cli.command {
        Command::Fetch(args) => &args.source,
        Command::Serve(args) => &args.source,
        _ => return,
    };
    // No TARGET on the command line is allowed by clap (a --config file
    // may give them) and refused later, before any I/O, by
    // `SourceOptions::for_targets` ("nothing to collect").
    if source.targets.is_empty() {
        return;
    }
    let Ok(targets) = plan::targets(&source.targets, source.kind) else {
        return;
    };
    assert!(!targets.is_empty(), "no target from {:?}", source.targets);
    let Ok(overrides) = plan::url_overrides(&source.url, &targets) else {
        return;
    };
    let testnet = source.testnet;
    let base_of = |exchange: &'static dyn Exchange| {
        if let Some((_, url)) = overrides.iter().find(|(e, _)| e.id() == exchange.id()) {
            return Ok(Base::Verbatim(url.clone()));
        }
        exchange
            .endpoints()
            .select(testnet)
            .map(|url| Base::Endpoint(url.to_owned()))
            .ok_or_else(|| UsageError(format!("{} has no testnet", exchange.name())))
    };
    let Ok(connections) = plan::connections(&targets, base_of) else {
        return;
    };
    for connection in &connections {
        assert!(registry::find(connection.exchange.id().as_str()).is_some());
        assert!(!connection.plan.url.is_empty(), "a plan without a URL");
        assert_eq!(connection.plan.exchange, connection.exchange.id());
        // The first --url naming an exchange is its base, as in `wiring::start`.
        if let Some((_, url)) = overrides
            .iter()
            .find(|(e, _)| e.id() == connection.exchange.id())
        {
            assert_eq!(&connection.plan.url, url, "an override not followed");
        }
    }
    for target in &targets {
        let wanted = target.subscription();
        let carried = connections
            .iter()
            .filter(|c| c.plan.subscriptions.contains(&wanted))
            .count();
        assert_eq!(carried, 1, "{wanted} is on {carried} connections");
    }
});

//! Kafka I/O: the consumer side ([`source`]), ordered offset tracking ([`offsets`]), the
//! producer side with events and dead letters ([`sink`]), topic administration ([`admin`])
//! and the in-process broker used by `copydesk demo` and the tests ([`embedded`]).

pub mod admin;
pub mod embedded;
pub mod offsets;
pub mod sink;
pub mod source;

use rdkafka::ClientConfig;

use crate::config::RawValue;
use std::collections::BTreeMap;

/// Applies pass-through librdkafka settings from config.
pub(crate) fn apply_raw(client: &mut ClientConfig, raw: &BTreeMap<String, RawValue>) {
    for (key, value) in raw {
        client.set(key, value.to_string());
    }
}

//! Kafka I/O: the consumer side ([`source`]), ordered offset tracking ([`offsets`]), the
//! producer side with events and dead letters ([`sink`]), topic administration ([`admin`])
//! and the in-process broker used by `copydesk demo` and the tests ([`embedded`]).

pub mod admin;
pub mod embedded;
pub mod offsets;
pub mod sink;
pub mod source;

use std::collections::BTreeMap;

use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::types::RDKafkaConfRes;
use rdkafka::ClientConfig;

use crate::config::RawValue;

/// Applies pass-through librdkafka settings from config, resolving secret references
/// (`${env:NAME}`, `${file:/path}`) at the last moment so secrets are never kept in the
/// config, printed by `check-config` or logged.
pub(crate) fn apply_raw(
    client: &mut ClientConfig,
    raw: &BTreeMap<String, RawValue>,
) -> KafkaResult<()> {
    for (key, value) in raw {
        let resolved = value.resolve().map_err(|reason| {
            KafkaError::ClientConfig(
                RDKafkaConfRes::RD_KAFKA_CONF_INVALID,
                reason,
                key.clone(),
                "<secret reference>".into(),
            )
        })?;
        client.set(key, resolved);
    }
    Ok(())
}

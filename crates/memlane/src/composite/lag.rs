//! The outbox lag of every composite store of the process, by tier, as last measured by their background
//! replayers: what a metrics exporter (the server's `/metrics`) reads without holding the store itself.

use std::collections::BTreeMap;
use std::sync::Mutex;

static LAG: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Records the lag of some tiers (by tier name).
pub(crate) fn publish(lag: &BTreeMap<String, u64>) {
    if let Ok(mut all) = LAG.lock() {
        all.extend(lag.iter().map(|(k, v)| (k.clone(), *v)));
    }
}

/// The outbox lag of each tier of the process's composite stores: changes of the record of truth the tier has not
/// applied yet, as of the last pass of the background replayer (every `outbox.interval_ms`). Empty when no
/// composite store runs.
pub fn outbox_lag_snapshot() -> BTreeMap<String, u64> {
    LAG.lock().map(|l| l.clone()).unwrap_or_default()
}

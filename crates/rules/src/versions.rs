//! Rule versions. Every event carries its rule's version, and the transparency report lists
//! the versions in force, so a rule that decides differently must not keep its number: any
//! change of its settings, parameters, mode or zone raises it, whoever made the change.

use crate::config::{RuleConfig, ZoneConfig};

/// A rule whose version was raised: `(rule id, old version, new version)`.
pub type Bump = (String, u32, u32);

/// Raises the version of every rule of `new_rules` that differs from the rule of the same id
/// in `old_rules` (anything but the version itself) or whose zone's settings changed, unless
/// the editor already raised it. A version never goes backwards; a new rule keeps its own.
pub fn bump_changed_versions(
    old_zones: &[ZoneConfig],
    old_rules: &[RuleConfig],
    new_zones: &[ZoneConfig],
    new_rules: &mut [RuleConfig],
) -> Vec<Bump> {
    let zone = |zones: &[ZoneConfig], name: &str| zones.iter().find(|z| z.name == name).cloned();
    let mut bumps = Vec::new();
    for r in new_rules.iter_mut() {
        let Some(old) = old_rules.iter().find(|o| o.id == r.id) else { continue };
        let mut unversioned = old.clone();
        unversioned.version = r.version;
        let same_rule = unversioned == *r;
        let same_zone = zone(old_zones, &old.zone) == zone(new_zones, &r.zone);
        if same_rule && same_zone {
            r.version = r.version.max(old.version);
        } else if r.version <= old.version {
            let to = old.version.saturating_add(1);
            bumps.push((r.id.clone(), old.version, to));
            r.version = to;
        }
    }
    bumps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ZoneKind;

    fn rule(toml_text: &str) -> RuleConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn any_change_of_a_rule_or_its_zone_raises_its_version_once() {
        let zones = vec![ZoneConfig::area("lamp", ZoneKind::Square, &[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])];
        let base = "id = \"g\"\ntype = \"crowd\"\nzone = \"lamp\"\nlegal_basis = \"A\"\nmin_count = 3\n";
        let old = vec![rule(base)];

        let mut same = vec![rule(base)];
        assert!(bump_changed_versions(&zones, &old, &zones, &mut same).is_empty());
        assert_eq!(same[0].version, 1);

        let mut param = vec![rule(&base.replace("min_count = 3", "min_count = 4"))];
        assert_eq!(bump_changed_versions(&zones, &old, &zones, &mut param), vec![("g".to_string(), 1, 2)]);
        assert_eq!(param[0].version, 2);

        let mut mode = vec![rule(&format!("{base}mode = \"calibration\"\n"))];
        bump_changed_versions(&zones, &old, &zones, &mut mode);
        assert_eq!(mode[0].version, 2, "the mode is part of the rule");

        let moved = vec![ZoneConfig::area("lamp", ZoneKind::Square, &[[0.0, 0.0], [20.0, 0.0], [20.0, 10.0]])];
        let mut zone_moved = vec![rule(base)];
        bump_changed_versions(&zones, &old, &moved, &mut zone_moved);
        assert_eq!(zone_moved[0].version, 2, "a rule whose zone moved decides differently");

        // Raised by the editor already: not twice. Lowered without a change: never backwards.
        let mut raised = vec![rule(&format!("{}version = 5\n", base.replace("min_count = 3", "min_count = 4")))];
        assert!(bump_changed_versions(&zones, &old, &zones, &mut raised).is_empty());
        assert_eq!(raised[0].version, 5);
        let old5 = raised.clone();
        let mut lowered = vec![rule(&base.replace("min_count = 3", "min_count = 4"))];
        bump_changed_versions(&zones, &old5, &zones, &mut lowered);
        assert_eq!(lowered[0].version, 5);

        let mut fresh = vec![rule(&base.replace("id = \"g\"", "id = \"new\""))];
        assert!(bump_changed_versions(&zones, &old, &zones, &mut fresh).is_empty());
        assert_eq!(fresh[0].version, 1);
    }
}

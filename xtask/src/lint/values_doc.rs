//! Every value in the chart's values files is documented by a comment that starts with its
//! name (`# backend.replicaCount -- …`), or sits under a documented map.

use anyhow::{Context, bail};

use crate::catalog::PROFILES;

pub fn run() -> anyhow::Result<()> {
    let mut count = 0;
    for profile in PROFILES {
        let name = profile.unwrap_or("values.yaml");
        let path = crate::catalog::chart_dir().join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let (leaves, undocumented) = check(&text);
        if !undocumented.is_empty() {
            bail!(
                "{name}: these values have no comment starting with their name (`# <name> -- what it does`): {}",
                undocumented.join(", ")
            );
        }
        count += leaves;
    }
    println!("    all {count} values in the values files are documented");
    Ok(())
}

/// Returns the number of leaf values and the dotted names of those without documentation.
pub fn check(text: &str) -> (usize, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut documented: Vec<String> = Vec::new();
    let mut comment_names: Vec<String> = Vec::new();
    let mut leaves = 0;
    let mut undocumented = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            comment_names.clear();
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some((name, _)) = comment.trim_start().split_once(" --") {
                comment_names.push(name.trim().to_owned());
            }
            continue;
        }
        if trimmed.starts_with('-') {
            continue;
        }
        let Some((key, rest)) = trimmed.split_once(':') else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        stack.retain(|(level, _)| *level < indent);
        let path = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .chain([key.trim()])
            .collect::<Vec<_>>()
            .join(".");
        documented.extend(comment_names.drain(..).filter(|n| *n == path));
        let inline_value = !rest.split('#').next().unwrap_or_default().trim().is_empty();
        let next = lines[index + 1..]
            .iter()
            .map(|l| (l.len() - l.trim_start().len(), l.trim_start()))
            .find(|(_, t)| !t.is_empty() && !t.starts_with('#'));
        let is_group =
            !inline_value && next.is_some_and(|(level, t)| level > indent && !t.starts_with('-'));
        if is_group {
            stack.push((indent, key.trim().to_owned()));
            continue;
        }
        leaves += 1;
        let covered = documented
            .iter()
            .any(|d| path == *d || path.starts_with(&format!("{d}.")));
        if !covered {
            undocumented.push(path);
        }
    }
    (leaves, undocumented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_without_its_named_comment_is_reported_and_documented_maps_cover_their_keys() {
        let text = "\
image:
  # image.tag -- the tag
  tag: \"\"
  pullPolicy: Always
# labels -- extra labels
labels:
  a.b/c: x
list:
  - one
";
        let (leaves, undocumented) = check(text);
        assert_eq!(leaves, 4, "tag, pullPolicy, labels.a.b/c, list");
        assert_eq!(undocumented, ["image.pullPolicy", "list"]);
    }
}

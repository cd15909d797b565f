//! Tolerant word comparison: simple stemming and an edit distance that forgives small typos.

/// Edit distance counting insertions, deletions, substitutions and swaps of neighbours
/// (optimal string alignment), on characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        rows[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        rows[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[at(i - 1, j)] + 1)
                .min(rows[at(i, j - 1)] + 1)
                .min(rows[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[at(i - 2, j - 2)] + 1);
            }
            rows[at(i, j)] = best;
        }
    }
    rows[at(a.len(), b.len())]
}

/// How many typos a word of this length may carry and still match: none below 4 characters,
/// one up to 7, two from 8.
pub(crate) fn typo_allowance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// A crude stem: plural and verb endings removed, so "meetings", "meeting" and "meet" agree.
pub(crate) fn stem(word: &str) -> String {
    let mut word = word.trim_end_matches("'s").to_owned();
    let long_enough = |w: &str, suffix: &str, keep: usize| {
        w.ends_with(suffix) && w.chars().count() >= suffix.len() + keep
    };
    if long_enough(&word, "ies", 3) {
        word.truncate(word.len() - 3);
        word.push('y');
    } else if ["sses", "xes", "ches", "shes"]
        .iter()
        .any(|s| long_enough(&word, s, 1))
    {
        word.truncate(word.len() - 2);
    } else if long_enough(&word, "s", 3) && !word.ends_with("ss") {
        word.truncate(word.len() - 1);
    }
    for suffix in ["ing", "ed"] {
        if long_enough(&word, suffix, 3) {
            word.truncate(word.len() - suffix.len());
            break;
        }
    }
    word
}

/// How closely a word of the request matches a word of a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Closeness {
    /// Same word, or the same stem.
    Exact,
    /// A typo away, or the start of a longer word.
    Near,
    None,
}

/// Compares a request word with a title word (both normalised).
pub(crate) fn closeness(wanted: &str, title_word: &str) -> Closeness {
    if wanted == title_word || stem(wanted) == stem(title_word) {
        return Closeness::Exact;
    }
    let wanted_len = wanted.chars().count();
    if wanted_len >= 4 && title_word.starts_with(wanted) {
        return Closeness::Near;
    }
    let allowance = typo_allowance(wanted_len.min(title_word.chars().count()));
    if allowance > 0
        && (edit_distance(wanted, title_word) <= allowance
            || edit_distance(&stem(wanted), &stem(title_word)) <= allowance)
    {
        return Closeness::Near;
    }
    Closeness::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_a_swap_of_neighbours_as_one() {
        assert_eq!(edit_distance("meeting", "meeting"), 0);
        assert_eq!(edit_distance("meting", "meeting"), 1);
        assert_eq!(edit_distance("grocreies", "groceries"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn stems_make_plurals_and_verb_forms_agree() {
        assert_eq!(stem("meetings"), "meet");
        assert_eq!(stem("meeting"), "meet");
        assert_eq!(stem("notes"), "note");
        assert_eq!(stem("boxes"), "box");
        assert_eq!(stem("groceries"), "grocery");
        assert_eq!(stem("bills"), "bill");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("mom's"), "mom");
    }

    #[test]
    fn closeness_forgives_typos_only_on_longer_words() {
        assert_eq!(closeness("meting", "meeting"), Closeness::Near);
        assert_eq!(closeness("meetings", "meeting"), Closeness::Exact);
        assert_eq!(closeness("car", "cat"), Closeness::None);
        assert_eq!(closeness("groc", "groceries"), Closeness::Near);
        assert_eq!(closeness("dentist", "dance"), Closeness::None);
    }
}

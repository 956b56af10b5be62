//! [`ChatScanner`]: card numbers split over consecutive messages of one sender.
//!
//! # How the relay uses it
//!
//! One scanner per conversation (room). For every chat message, before relaying or
//! storing it, call [`ChatScanner::inspect`] with the sender, the message id and the
//! text, then:
//!
//! 1. relay and store [`Verdict::text`] (the original text if nothing was found);
//! 2. if [`Verdict::incident`], audit a card-in-chat incident (never with the text);
//! 3. for every id in [`Verdict::retract`], retract that *earlier* message: tell
//!    recipients to delete it and remove it from the transcript. These are the
//!    messages that carried the first digits of a number completed now, e.g. `"4111
//!    1111"` then `"1111 1111"`.
//!
//! # What it keeps
//!
//! Per sender, only the digits at the very end of that sender's recent messages, when
//! they could be the start of a card number: at most [`MAX_TAIL_DIGITS`] digit values
//! (zeroized on drop and when replaced), their group boundaries, and the ids of the
//! messages they came from. Never message text. Messages of other senders in between
//! do not break the chain (the agent asking "and the next four?" must not help a split
//! number through); any non-digit content of the same sender does. At most
//! [`MAX_SENDERS`] senders are tracked (least recently active forgotten first).
//!
//! After a number that ends a message, the digits that open the sender's next messages
//! are removed too, up to 19 digits in all: the end of a number whose first 13+ digits
//! already passed the Luhn check, or a CVC sent right after the card number.

use std::collections::VecDeque;
use std::ops::Range;

use zeroize::Zeroizing;

use super::replace_spans;
use super::runs::{self, MAX_DIGITS};

/// Most digits kept per sender: one short of the longest card number.
pub const MAX_TAIL_DIGITS: usize = MAX_DIGITS - 1;
/// Most senders tracked per conversation.
pub const MAX_SENDERS: usize = 32;

/// The result of inspecting one message.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict<M> {
    /// The text to relay and store: the original, or with card numbers replaced by
    /// [`super::NOTICE`].
    pub text: String,
    /// Card numbers found (whole or completing a split one).
    pub hits: usize,
    /// A card number was found: audit an incident.
    pub incident: bool,
    /// Earlier messages of this sender that carried part of a number found now (the
    /// whole chain of digit messages it was typed in), oldest first. They must be
    /// retracted.
    pub retract: Vec<M>,
}

impl<M> Verdict<M> {
    /// True if earlier messages must be retracted.
    pub fn retract_previous(&self) -> bool {
        !self.retract.is_empty()
    }
}

impl<M: std::fmt::Debug> std::fmt::Debug for Verdict<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdict")
            .field("text_len", &self.text.len())
            .field("hits", &self.hits)
            .field("incident", &self.incident)
            .field("retract", &self.retract)
            .finish()
    }
}

/// Trailing digits of one sender.
struct Tail<M> {
    digits: Zeroizing<Vec<u8>>,
    group_start: Vec<bool>,
    /// (message id, digits of `digits` it contributed), oldest first; counts sum to len.
    sources: VecDeque<(M, usize)>,
    /// After a number that ended a message: how many more digits, at the start of the
    /// next messages, still belong to it (`MAX_DIGITS` minus its length). Such digits
    /// are removed too (the rest of a split number, or a CVC sent right after).
    absorb: usize,
}

impl<M: Clone> Tail<M> {
    fn empty() -> Tail<M> {
        Tail {
            digits: Zeroizing::new(Vec::with_capacity(MAX_TAIL_DIGITS + 1)),
            group_start: Vec::with_capacity(MAX_TAIL_DIGITS + 1),
            sources: VecDeque::new(),
            absorb: 0,
        }
    }

    fn len(&self) -> usize {
        self.digits.len()
    }

    /// Ids of the messages that contributed digits `range` of the tail.
    fn sources_of(&self, range: Range<usize>) -> Vec<M> {
        let mut out = Vec::new();
        let mut at = 0;
        for (id, count) in &self.sources {
            if at < range.end && range.start < at + count {
                out.push(id.clone());
            }
            at += count;
        }
        out
    }

    /// Append the digits of message `id`, keeping only the last [`MAX_TAIL_DIGITS`].
    /// The first appended digit starts a group (a message boundary separates groups).
    fn extend(&mut self, id: &M, digits: &[u8], group_start: &[bool]) {
        if digits.is_empty() {
            return;
        }
        self.sources.push_back((id.clone(), 0));
        for (i, (&d, &g)) in digits.iter().zip(group_start).enumerate() {
            if self.digits.len() == MAX_TAIL_DIGITS {
                // Capacity was reserved up front: remove/push never reallocate.
                self.digits.remove(0);
                self.group_start.remove(0);
                if let Some(front) = self.sources.front_mut() {
                    front.1 = front.1.saturating_sub(1);
                }
                if self.sources.front().is_some_and(|f| f.1 == 0) && self.sources.len() > 1 {
                    self.sources.pop_front();
                }
            }
            self.digits.push(d);
            self.group_start.push(g || i == 0);
            if let Some(back) = self.sources.back_mut() {
                back.1 += 1;
            }
        }
    }
}

/// Follows one conversation; see the module docs for the relay's part.
pub struct ChatScanner<M> {
    /// Least recently active first.
    senders: Vec<(String, Tail<M>)>,
}

impl<M> std::fmt::Debug for ChatScanner<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatScanner")
            .field("senders", &self.senders.len())
            .finish()
    }
}

impl<M: Clone> Default for ChatScanner<M> {
    fn default() -> Self {
        ChatScanner::new()
    }
}

impl<M: Clone> ChatScanner<M> {
    pub fn new() -> ChatScanner<M> {
        ChatScanner {
            senders: Vec::new(),
        }
    }

    /// Inspect message `id` from `sender` before it is relayed or stored.
    pub fn inspect(&mut self, sender: &str, id: M, text: &str) -> Verdict<M> {
        let mut tail = match self.senders.iter().position(|(s, _)| s == sender) {
            Some(i) => self.senders.remove(i).1,
            None => Tail::empty(),
        };
        let runs = runs::runs(text);
        let mut spans: Vec<Range<usize>> = Vec::new();
        let mut retract: Vec<M> = Vec::new();
        let mut new_tail = Tail::empty();
        let last = runs.len().wrapping_sub(1);
        for (k, run) in runs.iter().enumerate() {
            if k == 0 && run.at_text_start && tail.absorb > 0 && run.digits.len() <= tail.absorb {
                if let (Some(a), Some(b)) = (run.spans.first(), run.spans.last()) {
                    spans.push(a.start..b.end);
                }
                if k == last && run.at_text_end {
                    new_tail.absorb = tail.absorb - run.digits.len();
                }
                continue;
            }
            let joined = k == 0 && run.at_text_start && tail.len() > 0;
            let prior = if joined { tail.len() } else { 0 };
            let mut digits = Zeroizing::new(Vec::with_capacity(prior + run.digits.len()));
            let mut groups = Vec::with_capacity(prior + run.digits.len());
            if joined {
                digits.extend_from_slice(&tail.digits);
                groups.extend_from_slice(&tail.group_start);
            }
            digits.extend_from_slice(&run.digits);
            groups.extend(
                run.group_start
                    .iter()
                    .enumerate()
                    .map(|(i, &g)| g || i == 0),
            );
            let windows = runs::card_windows(&digits, &groups, prior);
            for w in &windows {
                if w.start < prior {
                    // The whole chain is one number being typed: retract all of it, also
                    // the digits before the window (a 13-digit window can start late).
                    retract.extend(tail.sources_of(0..prior));
                }
                let first = w.start.max(prior) - prior;
                if let (Some(a), Some(b)) = (run.spans.get(first), run.spans.get(w.end - 1 - prior))
                {
                    spans.push(a.start..b.end);
                }
            }
            if k == last && run.at_text_end {
                let after = windows.last().map_or(0, |w| w.end);
                if joined && windows.is_empty() {
                    new_tail = std::mem::replace(&mut tail, Tail::empty());
                    new_tail.extend(&id, &run.digits, &run.group_start);
                } else {
                    let from = after.saturating_sub(prior);
                    new_tail.extend(&id, &run.digits[from..], &run.group_start[from..]);
                }
                if let Some(w) = windows.last().filter(|w| w.end == digits.len()) {
                    new_tail.absorb = MAX_DIGITS - w.len();
                }
            }
        }
        if runs.is_empty()
            && text
                .chars()
                .all(|c| !matches!(super::chars::classify(c), super::chars::Class::Break))
        {
            // Whitespace or invisible characters only: the chain goes on.
            new_tail = tail;
        }
        // Only the first window of a joined run can reach into the tail: no duplicates.
        let hits = spans.len();
        let text = if hits == 0 {
            text.to_owned()
        } else {
            replace_spans(text, &spans)
        };
        if new_tail.len() > 0 || new_tail.absorb > 0 {
            self.senders.push((sender.to_owned(), new_tail));
            if self.senders.len() > MAX_SENDERS {
                self.senders.remove(0);
            }
        }
        Verdict {
            text,
            hits,
            incident: hits > 0,
            retract,
        }
    }

    /// Drop what is kept for `sender` (e.g. when the participant leaves).
    pub fn forget(&mut self, sender: &str) {
        self.senders.retain(|(s, _)| s != sender);
    }

    /// Number of senders with trailing digits kept.
    pub fn tracked_senders(&self) -> usize {
        self.senders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::NOTICE;
    use super::*;

    fn scanner() -> ChatScanner<u32> {
        ChatScanner::new()
    }

    #[test]
    fn whole_number_in_one_message() {
        let mut s = scanner();
        let v = s.inspect("patient", 1, "it's 4111 1111 1111 1111");
        assert_eq!(v.text, format!("it's {NOTICE}"));
        assert!(v.incident && !v.retract_previous());
        assert_eq!(s.tracked_senders(), 1, "only the absorb budget is kept");
    }

    #[test]
    fn split_over_two_messages() {
        let mut s = scanner();
        let v = s.inspect("patient", 1, "4111 1111");
        assert!(!v.incident && v.text == "4111 1111");
        let v = s.inspect("patient", 2, "1111 1111");
        assert!(v.incident);
        assert_eq!(v.text, NOTICE);
        assert_eq!(v.retract, vec![1]);
    }

    #[test]
    fn split_over_four_messages_with_agent_in_between() {
        let mut s = scanner();
        for (id, part) in [(1, "5555"), (3, "5555"), (5, "5555")] {
            let v = s.inspect("patient", id, part);
            assert!(!v.incident);
            let v = s.inspect("agent", id + 1, "ok, next four?");
            assert!(!v.incident);
        }
        let v = s.inspect("patient", 7, "4444 thanks");
        assert!(v.incident);
        assert_eq!(v.text, format!("{NOTICE} thanks"));
        assert_eq!(v.retract, vec![1, 3, 5]);
    }

    #[test]
    fn unicode_and_invisible_split() {
        let mut s = scanner();
        s.inspect("p", 1, "４１１１\u{200B}１１１１");
        s.inspect("p", 2, "\u{FEFF}");
        let v = s.inspect("p", 3, " ١١١١-1111 ");
        assert!(v.incident);
        assert_eq!(v.retract, vec![1]);
    }

    #[test]
    fn words_break_the_chain() {
        let mut s = scanner();
        s.inspect("p", 1, "4111 1111");
        s.inspect("p", 2, "sorry, wait");
        let v = s.inspect("p", 3, "1111 1111");
        assert!(!v.incident);
        // Text after the digits of the first message breaks it too.
        let mut s = scanner();
        s.inspect("p", 1, "4111 1111 is the start");
        assert!(!s.inspect("p", 2, "1111 1111").incident);
        // And text before the digits of the second.
        let mut s = scanner();
        s.inspect("p", 1, "4111 1111");
        assert!(!s.inspect("p", 2, "then 1111 1111").incident);
    }

    #[test]
    fn senders_are_separate() {
        let mut s = scanner();
        s.inspect("a", 1, "4111 1111");
        let v = s.inspect("b", 2, "1111 1111");
        assert!(!v.incident);
        assert_eq!(s.tracked_senders(), 2);
        s.forget("a");
        assert_eq!(s.tracked_senders(), 1);
    }

    #[test]
    fn tail_is_bounded_and_old_digits_fall_off() {
        let mut s = scanner();
        for id in 0..30 {
            s.inspect("p", id, "1");
        }
        assert_eq!(s.senders[0].1.len(), MAX_TAIL_DIGITS);
        let total: usize = s.senders[0].1.sources.iter().map(|x| x.1).sum();
        assert_eq!(total, MAX_TAIL_DIGITS);
        // A card typed digit by digit, one message each, after noise digits.
        let mut s = scanner();
        for (id, c) in "70 4111111111111111"
            .chars()
            .filter(|c| !c.is_whitespace())
            .enumerate()
        {
            let v = s.inspect("p", id as u32, &c.to_string());
            if id == 17 {
                assert!(v.incident);
                assert_eq!(v.retract, (0..17).collect::<Vec<u32>>());
            } else {
                assert!(!v.incident, "{id}");
            }
        }
    }

    #[test]
    fn sender_count_is_bounded() {
        let mut s = scanner();
        for i in 0..(MAX_SENDERS as u32 + 10) {
            s.inspect(&format!("s{i}"), i, "12");
        }
        assert_eq!(s.tracked_senders(), MAX_SENDERS);
    }

    #[test]
    fn digits_after_a_hit_start_a_new_tail() {
        let mut s = scanner();
        let v = s.inspect("p", 1, "4111 1111 1111 1111 5555 5555");
        assert_eq!(v.hits, 1);
        let v = s.inspect("p", 2, "5555 4444");
        assert!(v.incident);
        assert_eq!(v.retract, vec![1]);
    }

    #[test]
    fn digits_right_after_a_number_are_removed_too() {
        let mut s = scanner();
        assert!(s.inspect("p", 1, "4111 1111 1111 1111").incident);
        let v = s.inspect("p", 2, "737");
        assert_eq!(v.text, NOTICE);
        assert!(v.incident);
        // Budget: 19 - 16 = 3 digits, now spent.
        assert_eq!(s.inspect("p", 3, "5").text, "5");
        // Longer runs than the budget are left alone.
        let mut s = scanner();
        s.inspect("p", 1, "4111 1111 1111 1111");
        assert_eq!(s.inspect("p", 2, "12/28").text, "12/28");
        // Words in between end it.
        let mut s = scanner();
        s.inspect("p", 1, "4111 1111 1111 1111");
        s.inspect("p", 2, "and the code is");
        assert_eq!(s.inspect("p", 3, "737").text, "737");
    }

    #[test]
    fn verdict_debug_has_no_text() {
        let mut s = scanner();
        let v = s.inspect("p", 1, "4111 1111 1111 1111");
        assert!(!format!("{v:?}").contains("removed"));
    }
}

//! The event queue: pending events ordered by time, then by scheduling order.
//!
//! # Order
//!
//! [`EventQueue::pop`] returns events by time; events scheduled for the same instant come out
//! in the order they were scheduled (first in, first out). With integer time and no hidden
//! randomness, the same inputs give the same run, event for event.
//!
//! # How it works
//!
//! A simulator never schedules into the past, so the queue is a *monotone* priority queue and
//! can use a radix heap instead of a comparison heap, with one addition for small buckets.
//!
//! - A reference time `last` splits the pending events in two. Those at or before `last`
//!   form the *front run*, sorted by time, popped from its head.
//! - Those after `last` sit in 64 buckets: an event at `t` is in bucket `⌊log2(t XOR last)⌋`,
//!   the highest bit in which `t` differs from `last`. Scheduling one is a push onto a vector.
//! - When the run is empty, the lowest non-empty bucket refills it. A small bucket (at most
//!   32 events) is sorted and becomes the run, `last` moving to its latest time. A larger one
//!   is split as in a radix heap: `last` moves to its earliest time, the events of that time
//!   become the run, the others drop into lower buckets. Either way the buckets above keep
//!   their places.
//!
//! An event moves down a few buckets at most (each move a sequential copy of 16 bytes: the
//! payloads stay put in a slot table) before it is sorted into the run, which keeps the queue
//! cache friendly where a binary heap jumps around memory.
//!
//! All events of one instant always share a bucket, every bucket keeps the scheduling order
//! of each instant (appends, stable splits, a stable sort), and the run keeps it too: that is
//! what makes equal-time order deterministic.
//!
//! An event scheduled at or before `last` (it happens after [`EventQueue::peek`], or when a
//! handler schedules something between two events of the run) is inserted in the run at its
//! place (its head and its back, where a model's new events mostly go, are tried first).
//! Should that mean shifting many entries, the run's later part goes back to the buckets
//! instead, with `last` moved back.
//!
//! Cancellation is by [`EventId`], a slot index plus a generation number. Cancelling drops the
//! payload and frees the slot at once; the 16-byte entry left in a bucket is skipped when it
//! surfaces, and a sweep clears such leftovers if they ever outnumber the pending events.
//! [`EventQueue::len`] counts pending events exactly.

use std::fmt;
use std::mem;

use crate::time::{SimDuration, SimTime};

/// Identifies a scheduled event, so that it can be cancelled (a timeout that is no longer
/// needed, say).
///
/// An id stays unique to its event: once the event has been popped or cancelled, the id no
/// longer matches anything in the queue that made it, even when the slot is reused. Ids are
/// only meaningful to the queue that issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    slot: u32,
    generation: u32,
}

/// The error of [`EventQueue::try_schedule`]: the requested time was before the queue's
/// clock. It hands the event back.
pub struct ScheduleError<E> {
    at: SimTime,
    now: SimTime,
    event: E,
}

impl<E> ScheduleError<E> {
    /// The time the event was to be scheduled at.
    pub fn at(&self) -> SimTime {
        self.at
    }

    /// The queue's clock when the scheduling was refused.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The event that was not scheduled.
    pub fn into_event(self) -> E {
        self.event
    }
}

impl<E> fmt::Debug for ScheduleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduleError")
            .field("at", &self.at)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<E> fmt::Display for ScheduleError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot schedule an event in the past: at {} ({} s) but the clock is already at {} ({} s)",
            self.at,
            self.at.secs(),
            self.now,
            self.now.secs()
        )
    }
}

impl<E> std::error::Error for ScheduleError<E> {}

/// A pending event's place in a bucket: its time and its slot. The payload stays in the slot
/// table, so splitting a bucket moves 16 bytes per event whatever the event type.
#[derive(Debug, Clone, Copy)]
struct Entry {
    time: u64,
    slot: u32,
    generation: u32,
}

/// One slot of the payload table. `event` is `Some` while the event is pending; the
/// generation goes up each time the slot is released, which retires the old [`EventId`] and
/// the old [`Entry`].
#[derive(Debug)]
struct Slot<E> {
    generation: u32,
    event: Option<E>,
}

/// Leftover entries of cancelled events are swept once there are more than this many and
/// more than there are pending events.
const SWEEP_MIN_STALE: usize = 1024;

/// Buckets of at most this many entries are sorted into the front run whole instead of being
/// split bit by bit.
const SORT_MAX: usize = 32;

/// A front run of at most this many entries takes a new entry by moving the later ones up
/// one by one; a longer one is searched by bisection first.
const SHORT_RUN: usize = 8;

/// Inserting into the middle of the front run shifts at most this many entries; beyond that
/// the run's tail goes back to the buckets instead.
const FRONT_SHIFT_MAX: usize = 64;

/// A discrete-event queue: pending events ordered by time, equal times in scheduling order,
/// with a clock that [`pop`](EventQueue::pop) advances.
///
/// `E` is the event type, usually an enum of what can happen. Handlers get the queue back, so
/// they can schedule follow-up events:
///
/// ```
/// use smtpsim_des::{EventQueue, SimDuration, SimTime};
///
/// #[derive(Debug, PartialEq)]
/// enum Event { Arrive(u32), Depart(u32) }
///
/// let mut queue = EventQueue::new();
/// queue.schedule(SimTime::from_secs(1), Event::Arrive(1));
/// queue.schedule(SimTime::from_secs(1), Event::Arrive(2)); // same instant: after Arrive(1)
///
/// let mut log = Vec::new();
/// queue.run(|queue, now, event| {
///     if let Event::Arrive(n) = event {
///         queue.schedule_in(SimDuration::from_millis(1500), Event::Depart(n));
///     }
///     log.push(format!("{now} {event:?}"));
/// });
/// assert_eq!(log, ["1s Arrive(1)", "1s Arrive(2)", "2.5s Depart(1)", "2.5s Depart(2)"]);
/// assert_eq!(queue.now(), SimTime::from_millis(2500));
/// ```
pub struct EventQueue<E> {
    /// The clock: the time of the last popped event (or of the last `advance_to`).
    now: SimTime,
    /// The radix heap's reference key: every entry in `front` is at or before it, every entry
    /// in `buckets` after it.
    last: u64,
    /// The front run: the entries at or before `last`, sorted by time, each instant's entries
    /// in scheduling order. Pops come from its head.
    front: Run,
    /// `buckets[b]` holds the entries after `last` whose highest bit differing from `last`
    /// is `b`, each instant's entries in scheduling order.
    buckets: [Vec<Entry>; 64],
    /// Bit `b` is set when `buckets[b]` is not empty.
    occupied: u64,
    slots: Vec<Slot<E>>,
    /// Released slots, reused last in, first out (the most recently touched memory first).
    free: Vec<u32>,
    /// Pending events.
    len: usize,
    /// Entries of cancelled events still sitting in `front` or `buckets`.
    stale: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new()
    }
}

impl<E> fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventQueue")
            .field("now", &self.now)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue with its clock at [`SimTime::ZERO`].
    pub fn new() -> EventQueue<E> {
        EventQueue {
            now: SimTime::ZERO,
            last: 0,
            front: Run::default(),
            buckets: std::array::from_fn(|_| Vec::new()),
            occupied: 0,
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            stale: 0,
        }
    }

    /// An empty queue with room for `capacity` pending events before the slot table grows.
    pub fn with_capacity(capacity: usize) -> EventQueue<E> {
        let mut queue = EventQueue::new();
        queue.slots.reserve(capacity);
        queue
    }

    /// The clock: the time of the most recently popped event, [`SimTime::ZERO`] before the
    /// first, or where [`advance_to`](Self::advance_to) or
    /// [`run_until`](Self::run_until) moved it.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The number of pending events (scheduled, not yet popped nor cancelled).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `event` at `at`, after every event already scheduled for that same instant.
    ///
    /// # Panics
    ///
    /// If `at` is before [`now`](Self::now): scheduling into the past is a bug in the model.
    /// Use [`try_schedule`](Self::try_schedule) to get an error instead.
    #[inline(always)]
    #[track_caller]
    pub fn schedule(&mut self, at: SimTime, event: E) -> EventId {
        match self.try_schedule(at, event) {
            Ok(id) => id,
            Err(error) => scheduled_in_the_past(error.at, error.now),
        }
    }

    /// Schedules `event` at `at`, like [`schedule`](Self::schedule), or gives the event back
    /// in an error if `at` is before [`now`](Self::now).
    #[inline(always)]
    pub fn try_schedule(&mut self, at: SimTime, event: E) -> Result<EventId, ScheduleError<E>> {
        if at < self.now {
            return Err(ScheduleError {
                at,
                now: self.now,
                event,
            });
        }
        let id = self.allocate(event);
        self.insert(Entry {
            time: at.as_micros(),
            slot: id.slot,
            generation: id.generation,
        });
        self.len += 1;
        Ok(id)
    }

    /// Schedules `event` `delay` after [`now`](Self::now) (at [`SimTime::MAX`] if that would
    /// be later). Never panics: the result cannot be in the past.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> EventId {
        self.schedule(self.now + delay, event)
    }

    /// Cancels a pending event, dropping it. Returns whether it was pending: `false` if it
    /// was already popped or cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.remove(id).is_some()
    }

    /// Cancels a pending event and returns it, or `None` if it was already popped or
    /// cancelled.
    pub fn remove(&mut self, id: EventId) -> Option<E> {
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let event = slot.event.take()?;
        self.release(id.slot);
        self.len -= 1;
        self.stale += 1;
        if self.stale > SWEEP_MIN_STALE && self.stale > self.len {
            self.sweep();
        }
        Some(event)
    }

    /// Whether the event with this id is still pending.
    pub fn is_pending(&self, id: EventId) -> bool {
        self.slots
            .get(id.slot as usize)
            .is_some_and(|slot| slot.generation == id.generation && slot.event.is_some())
    }

    /// The time of the next event, if any, without popping it or moving the clock.
    ///
    /// It takes `&mut self` because finding the next event may reorganise the queue
    /// internally (and forget cancelled events on the way).
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.peek().map(|(time, _)| time)
    }

    /// The next event and its time, without popping it or moving the clock.
    pub fn peek(&mut self) -> Option<(SimTime, &E)> {
        let entry = self.first_live()?;
        let event = self.slots[entry.slot as usize]
            .event
            .as_ref()
            .expect("a live entry has its event");
        Some((SimTime::from_micros(entry.time), event))
    }

    /// Pops the next event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::MAX)
    }

    /// Pops the next event if it is at or before `limit`, advancing the clock to its time;
    /// otherwise leaves the queue and the clock as they are and returns `None`.
    #[inline]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let entry = self.first_live()?;
        if entry.time > limit.as_micros() {
            return None;
        }
        self.front.pop_first();
        let event = self.slots[entry.slot as usize]
            .event
            .take()
            .expect("a live entry has its event");
        self.release(entry.slot);
        self.len -= 1;
        self.now = SimTime::from_micros(entry.time);
        Some((self.now, event))
    }

    /// Moves the clock forward to `to` without popping anything (to let simulated time pass
    /// to the end of a measurement window, say).
    ///
    /// # Panics
    ///
    /// If `to` is before [`now`](Self::now), or if an event is pending before `to` (it
    /// would be skipped).
    #[track_caller]
    pub fn advance_to(&mut self, to: SimTime) {
        assert!(
            to >= self.now,
            "EventQueue::advance_to: cannot move the clock back from {} to {}",
            self.now,
            to
        );
        if let Some(next) = self.peek_time() {
            assert!(
                next >= to,
                "EventQueue::advance_to: an event is pending at {next}, before {to}"
            );
        }
        self.now = to;
    }

    /// Pops and handles events until none is left. Returns how many were handled.
    ///
    /// `handler` gets the queue (to schedule or cancel events), the event's time (also
    /// [`now`](Self::now)) and the event.
    pub fn run<F>(&mut self, mut handler: F) -> u64
    where
        F: FnMut(&mut EventQueue<E>, SimTime, E),
    {
        let mut handled = 0;
        while let Some((time, event)) = self.pop() {
            handler(self, time, event);
            handled += 1;
        }
        handled
    }

    /// Pops and handles every event at or before `limit`, including those that handlers
    /// schedule on the way, then moves the clock to `limit` (if it is not already later).
    /// Returns how many events were handled.
    ///
    /// Events after `limit` stay pending; calling `run_until` again with a later limit
    /// carries on exactly as one longer call would have.
    pub fn run_until<F>(&mut self, limit: SimTime, mut handler: F) -> u64
    where
        F: FnMut(&mut EventQueue<E>, SimTime, E),
    {
        let mut handled = 0;
        while let Some((time, event)) = self.pop_until(limit) {
            handler(self, time, event);
            handled += 1;
        }
        if limit > self.now {
            self.now = limit;
        }
        handled
    }

    /// Pops and handles at most `max_events` events (fewer if the queue runs dry). Returns how
    /// many were handled. The clock stays at the last handled event.
    pub fn run_for_events<F>(&mut self, max_events: u64, mut handler: F) -> u64
    where
        F: FnMut(&mut EventQueue<E>, SimTime, E),
    {
        let mut handled = 0;
        while handled < max_events {
            let Some((time, event)) = self.pop() else {
                break;
            };
            handler(self, time, event);
            handled += 1;
        }
        handled
    }

    /// Drops every pending event; the clock stays where it is. Ids issued before stay
    /// retired (they will not match later events).
    pub fn clear(&mut self) {
        self.front.clear();
        for bucket in &mut self.buckets {
            bucket.clear();
        }
        self.occupied = 0;
        self.last = self.now.as_micros();
        for index in 0..self.slots.len() {
            if self.slots[index].event.take().is_some() {
                self.release(index as u32);
            }
        }
        self.len = 0;
        self.stale = 0;
    }

    /// Puts `event` in a slot and returns its id.
    #[inline(always)]
    fn allocate(&mut self, event: E) -> EventId {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.event = Some(event);
            return EventId {
                slot: index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&index| index < u32::MAX)
            .expect("EventQueue: more than 4 billion pending events");
        self.slots.push(Slot {
            generation: 0,
            event: Some(event),
        });
        EventId {
            slot: index,
            generation: 0,
        }
    }

    /// Retires the slot's current id and makes the slot reusable. A slot whose generation
    /// reaches `u32::MAX` is never reused, so generations never wrap and an old id can never
    /// match a new event.
    #[inline]
    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.generation += 1;
        if slot.generation < u32::MAX {
            self.free.push(index);
        }
    }

    /// The earliest pending entry, at the head of the front run, after dropping cancelled
    /// entries found there and splitting buckets as needed; `None` if nothing is pending.
    #[inline]
    fn first_live(&mut self) -> Option<Entry> {
        loop {
            let Some(&entry) = self.front.first() else {
                if self.occupied == 0 {
                    return None;
                }
                self.split();
                continue;
            };
            if self.slots[entry.slot as usize].generation == entry.generation {
                return Some(entry);
            }
            self.front.pop_first();
            self.stale -= 1;
        }
    }

    /// Files an entry: in a bucket if it is after `last`, otherwise in its place in the front
    /// run (after any entries of the same time).
    #[inline(always)]
    fn insert(&mut self, entry: Entry) {
        let time = entry.time;
        if time > self.last {
            let b = bucket_of(time, self.last);
            self.buckets[b].push(entry);
            self.occupied |= 1 << b;
            return;
        }
        self.insert_front(entry);
    }

    /// [`insert`](Self::insert) for an entry at or before `last`.
    ///
    /// The common places are tried first, as a model schedules most of these events at the
    /// clock's time (a follow-up without delay) or after everything pending: at the back of
    /// the run, at its head (into the room the last pop left), and in a short run by moving
    /// the later entries up one by one. Only a longer run is searched by bisection.
    #[inline(never)]
    fn insert_front(&mut self, entry: Entry) {
        let time = entry.time;
        let run = self.front.as_slice();
        let (Some(first), Some(back)) = (run.first(), run.last()) else {
            return self.front.push_back(entry);
        };
        if back.time <= time {
            return self.front.push_back(entry);
        }
        let (before_all, short) = (time < first.time, run.len() <= SHORT_RUN);
        if before_all && self.front.push_front(entry) {
            return;
        }
        if short {
            return self.front.insert_by_shifting(entry);
        }
        let at = self
            .front
            .as_slice()
            .partition_point(|other| other.time <= time);
        if self.front.insert_cost(at) <= FRONT_SHIFT_MAX {
            self.front.insert(at, entry);
        } else {
            self.spill(time, at);
            self.front.push_back(entry);
        }
    }

    /// Moves `last` back to `to` (`now <= to < last`), returning the front run's entries
    /// after `to` (those from index `at` on) to the buckets, so that inserting at `to` is a
    /// push at the back of the run.
    ///
    /// With `m` the highest bit in which `to` and `last` differ: entries in buckets below `m`
    /// agree with `last` from bit `m` up, so relative to `to` they all belong in bucket `m`,
    /// which is empty (an entry there would have a 1 at bit `m` where `last` has a 0, but
    /// `last > to` puts a 1 in `last` at bit `m`). Buckets above `m` keep their entries. The
    /// spilled run entries are all at or before `last`, so they lie in bucket `m` or below.
    /// Every instant's entries stay together and in order.
    fn spill(&mut self, to: u64, at: usize) {
        debug_assert!(to < self.last);
        let m = bucket_of(to, self.last);
        let mut merged = mem::take(&mut self.buckets[m]);
        debug_assert!(merged.is_empty());
        for bucket in &mut self.buckets[..m] {
            merged.append(bucket);
        }
        self.occupied &= !(u64::MAX >> (63 - m));
        if !merged.is_empty() {
            self.occupied |= 1 << m;
        }
        self.buckets[m] = merged;
        self.last = to;
        for entry in self.front.drain_from(at) {
            let b = bucket_of(entry.time, to);
            self.buckets[b].push(entry);
            self.occupied |= 1 << b;
        }
    }

    /// With the front run empty, refills it from the lowest non-empty bucket (which must
    /// exist). A small bucket is sorted by time (stably, keeping each instant's order) and
    /// becomes the run, with `last` at its latest time. A large one is split radix-heap style:
    /// `last` moves to its earliest time, whose entries become the run, and the rest drop
    /// into lower buckets.
    ///
    /// Either way, buckets above keep their places: the new `last` agrees with the old one
    /// in every bit above the split bucket's.
    fn split(&mut self) {
        debug_assert!(self.front.is_empty());
        let b = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << b);
        let mut entries = mem::take(&mut self.buckets[b]);
        if entries.len() <= SORT_MAX {
            entries.sort_by_key(|entry| entry.time);
            self.last = entries.last().expect("occupied bucket is not empty").time;
            // The sorted bucket becomes the run, and the run's empty vector the bucket's.
            self.buckets[b] = self.front.replace(entries);
        } else {
            let min = entries
                .iter()
                .map(|entry| entry.time)
                .min()
                .expect("occupied bucket is not empty");
            self.last = min;
            let mut occupied = self.occupied;
            let buckets = &mut self.buckets;
            for &entry in &entries {
                if entry.time == min {
                    self.front.push_back(entry);
                } else {
                    // Strictly below `b`: the entry agrees with `min` from bit `b` up.
                    let lower = bucket_of(entry.time, min);
                    buckets[lower].push(entry);
                    occupied |= 1 << lower;
                }
            }
            self.occupied = occupied;
            // Put the emptied vector back to keep its capacity.
            entries.clear();
            self.buckets[b] = entries;
        }
    }

    /// Drops the entries of cancelled events from every bucket.
    fn sweep(&mut self) {
        let slots = &self.slots;
        let live = |entry: &Entry| slots[entry.slot as usize].generation == entry.generation;
        self.front.retain(live);
        for (b, bucket) in self.buckets.iter_mut().enumerate() {
            bucket.retain(live);
            if bucket.is_empty() {
                self.occupied &= !(1 << b);
            }
        }
        self.stale = 0;
    }
}

/// The front run: entries sorted by time, popped from the head. A vector with a moving
/// head: popping is an increment, and the room it leaves lets an entry go back in front.
#[derive(Debug, Default)]
struct Run {
    entries: Vec<Entry>,
    /// Entries before `head` have been popped.
    head: usize,
}

impl Run {
    #[inline]
    fn is_empty(&self) -> bool {
        self.head == self.entries.len()
    }

    #[inline]
    fn first(&self) -> Option<&Entry> {
        self.entries.get(self.head)
    }

    /// The entries not yet popped.
    #[inline]
    fn as_slice(&self) -> &[Entry] {
        &self.entries[self.head..]
    }

    /// Drops the first entry (which must exist). The vector is reset when something is
    /// next added to the empty run.
    #[inline]
    fn pop_first(&mut self) {
        self.head += 1;
    }

    #[inline]
    fn push_back(&mut self, entry: Entry) {
        if self.is_empty() {
            self.clear();
        }
        self.entries.push(entry);
    }

    /// Puts `entry` before the first entry, into the room a pop left, and returns `true`;
    /// returns `false` (and does nothing) when there is no such room.
    #[inline]
    fn push_front(&mut self, entry: Entry) -> bool {
        if self.head == 0 {
            return false;
        }
        self.head -= 1;
        self.entries[self.head] = entry;
        true
    }

    /// Inserts `entry` after the last entry at or before its time, moving the later ones up
    /// one at a time: for a few entries this is cheaper than a search and a `memmove` call.
    #[inline]
    fn insert_by_shifting(&mut self, entry: Entry) {
        self.entries.push(entry);
        let run = &mut self.entries[self.head..];
        let mut at = run.len() - 1;
        while at > 0 && run[at - 1].time > entry.time {
            run[at] = run[at - 1];
            at -= 1;
        }
        run[at] = entry;
    }

    /// How many entries [`insert`](Self::insert) at `at` would move.
    fn insert_cost(&self, at: usize) -> usize {
        let after = self.entries.len() - self.head - at;
        if self.head > 0 { at.min(after) } else { after }
    }

    /// Inserts `entry` before the `at`-th remaining entry, moving the shorter side.
    fn insert(&mut self, at: usize, entry: Entry) {
        let after = self.entries.len() - self.head - at;
        if self.head > 0 && at <= after {
            self.entries
                .copy_within(self.head..self.head + at, self.head - 1);
            self.head -= 1;
            self.entries[self.head + at] = entry;
        } else {
            self.entries.insert(self.head + at, entry);
        }
    }

    /// Removes the entries from the `at`-th remaining one on.
    /// With `at` 0 this leaves the run empty (`push_back` then resets the vector).
    fn drain_from(&mut self, at: usize) -> std::vec::Drain<'_, Entry> {
        self.entries.drain(self.head + at..)
    }

    /// Makes `entries` the run; returns the old run's vector, emptied (its allocation is
    /// worth keeping).
    fn replace(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        let mut old = mem::replace(&mut self.entries, entries);
        old.clear();
        self.head = 0;
        old
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.head = 0;
    }

    fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.entries.drain(..self.head);
        self.head = 0;
        self.entries.retain(keep);
    }
}

/// The panic of [`EventQueue::schedule`], kept out of line.
#[cold]
#[inline(never)]
#[track_caller]
fn scheduled_in_the_past(at: SimTime, now: SimTime) -> ! {
    let error = ScheduleError { at, now, event: () };
    panic!("EventQueue::schedule: {error}")
}

/// The bucket of `time` relative to `last` (`time > last`): the highest differing bit.
#[inline]
fn bucket_of(time: u64, last: u64) -> usize {
    debug_assert!(time != last);
    // `63 - leading_zeros`, written so that the result is visibly below 64.
    (63 ^ ((time ^ last).leading_zeros() & 63)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(micros: u64) -> SimTime {
        SimTime::from_micros(micros)
    }

    fn drain(queue: &mut EventQueue<u32>) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| queue.pop())
            .map(|(time, event)| (time.as_micros(), event))
            .collect()
    }

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut queue = EventQueue::new();
        for (i, time) in [5u64, 3, 5, 1, 3, 5, 0, 1 << 40, 3].into_iter().enumerate() {
            queue.schedule(t(time), i as u32);
        }
        assert_eq!(queue.len(), 9);
        assert_eq!(
            drain(&mut queue),
            [
                (0, 6),
                (1, 3),
                (3, 1),
                (3, 4),
                (3, 8),
                (5, 0),
                (5, 2),
                (5, 5),
                (1 << 40, 7)
            ]
        );
        assert_eq!(queue.now(), t(1 << 40));
        assert!(queue.is_empty());
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn same_time_as_now_goes_after_pending_events_at_now() {
        let mut queue = EventQueue::new();
        queue.schedule(t(10), 1);
        queue.schedule(t(10), 2);
        assert_eq!(queue.pop(), Some((t(10), 1)));
        queue.schedule(t(10), 3);
        queue.schedule_in(SimDuration::ZERO, 4);
        assert_eq!(drain(&mut queue), [(10, 2), (10, 3), (10, 4)]);
    }

    #[test]
    fn extreme_times() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime::MAX, 1);
        queue.schedule(t(0), 2);
        queue.schedule(t(u64::MAX - 1), 3);
        queue.schedule(SimTime::MAX, 4);
        assert_eq!(
            drain(&mut queue),
            [(0, 2), (u64::MAX - 1, 3), (u64::MAX, 1), (u64::MAX, 4)]
        );
        queue.schedule_in(SimDuration::from_secs(1), 5);
        assert_eq!(queue.pop(), Some((SimTime::MAX, 5)));
    }

    #[test]
    fn cancel_is_exact() {
        let mut queue = EventQueue::new();
        let a = queue.schedule(t(1), 1);
        let b = queue.schedule(t(2), 2);
        let c = queue.schedule(t(2), 3);
        assert!(queue.is_pending(b));
        assert!(queue.cancel(b));
        assert!(!queue.is_pending(b));
        assert!(!queue.cancel(b));
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.pop(), Some((t(1), 1)));
        assert!(!queue.cancel(a), "popped events cannot be cancelled");
        assert_eq!(queue.remove(c), Some(3));
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.now(), t(1));
    }

    #[test]
    fn ids_are_not_reused_for_new_events() {
        let mut queue = EventQueue::new();
        let old = queue.schedule(t(1), 1);
        assert!(queue.cancel(old));
        let new = queue.schedule(t(1), 2);
        assert_ne!(old, new);
        assert!(!queue.cancel(old));
        assert!(queue.is_pending(new));
        assert_eq!(queue.pop(), Some((t(1), 2)));
    }

    #[test]
    fn retired_slots_are_not_reused() {
        let mut queue: EventQueue<u32> = EventQueue::new();
        let id = queue.schedule(t(1), 1);
        queue.slots[0].generation = u32::MAX - 1;
        let forged = EventId {
            slot: 0,
            generation: u32::MAX - 1,
        };
        assert!(!queue.cancel(id));
        assert!(queue.cancel(forged));
        assert!(queue.free.is_empty(), "slot 0 retired");
        let next = queue.schedule(t(1), 2);
        assert_eq!(next.slot, 1);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop(), Some((t(1), 2)));
    }

    #[test]
    fn peek_then_schedule_earlier() {
        let mut queue = EventQueue::new();
        queue.schedule(t(1000), 1);
        queue.schedule(t(1001), 2);
        queue.schedule(t(5000), 3);
        assert_eq!(queue.peek_time(), Some(t(1000)));
        queue.schedule(t(10), 4);
        queue.schedule(t(1000), 5);
        assert_eq!(queue.peek(), Some((t(10), &4)));
        assert_eq!(
            drain(&mut queue),
            [(10, 4), (1000, 1), (1000, 5), (1001, 2), (5000, 3)]
        );
    }

    #[test]
    fn cancelled_events_are_invisible_to_peek() {
        let mut queue = EventQueue::new();
        let a = queue.schedule(t(5), 1);
        queue.schedule(t(9), 2);
        queue.cancel(a);
        assert_eq!(queue.peek_time(), Some(t(9)));
        assert_eq!(queue.now(), t(0));
        // The skipped entry moved the heap's reference past the clock; earlier events still
        // come first.
        queue.schedule(t(7), 3);
        assert_eq!(drain(&mut queue), [(7, 3), (9, 2)]);
    }

    #[test]
    fn many_cancellations_are_swept() {
        let mut queue = EventQueue::new();
        let ids: Vec<_> = (0..5000u32)
            .map(|i| queue.schedule(t(u64::from(i) * 7 + 100), i))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            if i % 10 != 0 {
                assert!(queue.cancel(*id));
            }
        }
        assert_eq!(queue.len(), 500);
        assert!(queue.stale <= SWEEP_MIN_STALE.max(queue.len));
        let popped: Vec<u32> = drain(&mut queue).into_iter().map(|(_, e)| e).collect();
        assert_eq!(popped, (0..5000).step_by(10).collect::<Vec<_>>());
    }

    #[test]
    fn pop_until_and_run_until() {
        let mut queue = EventQueue::new();
        for i in 0..10u32 {
            queue.schedule(t(u64::from(i) * 10), i);
        }
        assert_eq!(queue.pop_until(t(5)), Some((t(0), 0)));
        assert_eq!(queue.pop_until(t(5)), None);
        assert_eq!(queue.now(), t(0));
        let mut seen = Vec::new();
        let handled = queue.run_until(t(45), |queue, now, event| {
            seen.push(event);
            if event == 2 {
                queue.schedule(now + SimDuration::from_micros(5), 100);
                queue.schedule(now + SimDuration::from_micros(500), 200);
            }
        });
        assert_eq!(handled, 5);
        assert_eq!(seen, [1, 2, 100, 3, 4]);
        assert_eq!(queue.now(), t(45));
        assert_eq!(queue.len(), 6);
        assert_eq!(queue.run_for_events(2, |_, _, _| {}), 2);
        assert_eq!(queue.now(), t(60));
        assert_eq!(queue.run(|_, _, _| {}), 4);
        assert_eq!(queue.now(), t(520));
        assert_eq!(queue.run_for_events(2, |_, _, _| {}), 0);
    }

    #[test]
    fn advance_to_moves_the_clock() {
        let mut queue = EventQueue::new();
        queue.schedule(t(100), 1);
        queue.advance_to(t(100));
        assert_eq!(queue.now(), t(100));
        assert_eq!(queue.pop(), Some((t(100), 1)));
        queue.advance_to(t(200));
        assert!(queue.try_schedule(t(150), 2).is_err());
    }

    #[test]
    #[should_panic(expected = "an event is pending at 100us, before 200us")]
    fn advance_to_refuses_to_skip_events() {
        let mut queue = EventQueue::new();
        queue.schedule(t(100), 1);
        queue.advance_to(t(200));
    }

    #[test]
    #[should_panic(expected = "cannot schedule an event in the past")]
    fn scheduling_in_the_past_panics() {
        let mut queue = EventQueue::new();
        queue.schedule(t(100), 1);
        queue.pop();
        queue.schedule(t(99), 2);
    }

    #[test]
    fn try_schedule_gives_the_event_back() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime::from_secs(2), 1);
        queue.pop();
        let error = queue
            .try_schedule(SimTime::from_millis(1500), 7)
            .unwrap_err();
        assert_eq!(error.at(), SimTime::from_millis(1500));
        assert_eq!(error.now(), SimTime::from_secs(2));
        assert_eq!(
            error.to_string(),
            "cannot schedule an event in the past: at 1.5s (1.500000 s) but the clock is already at 2s (2.000000 s)"
        );
        assert_eq!(error.into_event(), 7);
        assert!(queue.is_empty());
    }

    #[test]
    fn clear_keeps_the_clock_and_retires_ids() {
        let mut queue = EventQueue::new();
        queue.schedule(t(5), 0);
        queue.pop();
        let id = queue.schedule(t(10), 1);
        queue.schedule(t(20), 2);
        queue.clear();
        assert!(queue.is_empty());
        assert_eq!(queue.now(), t(5));
        let new = queue.schedule(t(6), 3);
        assert!(!queue.cancel(id));
        assert!(queue.is_pending(new));
        assert_eq!(drain(&mut queue), [(6, 3)]);
    }

    #[test]
    fn payloads_are_dropped_when_cancelled_or_cleared() {
        use std::rc::Rc;
        let token = Rc::new(());
        let mut queue = EventQueue::new();
        let id = queue.schedule(t(1), Rc::clone(&token));
        queue.schedule(t(2), Rc::clone(&token));
        assert_eq!(Rc::strong_count(&token), 3);
        queue.cancel(id);
        assert_eq!(Rc::strong_count(&token), 2);
        queue.clear();
        assert_eq!(Rc::strong_count(&token), 1);
    }
}

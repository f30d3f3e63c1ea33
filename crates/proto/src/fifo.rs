//! A first-in, first-out queue that keeps its first few items inline, for the short queues a
//! session holds (replies it waits for, events for its driver): no allocation in the usual
//! case.

use smallvec::SmallVec;

/// A FIFO queue holding up to `N` items without allocating.
#[derive(Debug, Clone)]
pub(crate) struct Fifo<T, const N: usize> {
    items: SmallVec<[Option<T>; N]>,
    /// Index of the front item; the items before it were taken.
    head: usize,
}

impl<T, const N: usize> Default for Fifo<T, N> {
    fn default() -> Self {
        Fifo {
            items: SmallVec::new(),
            head: 0,
        }
    }
}

impl<T, const N: usize> Fifo<T, N> {
    /// Adds an item at the back.
    pub(crate) fn push_back(&mut self, item: T) {
        if self.head == self.items.len() && self.head > 0 {
            // Everything was taken: start over at the front of the storage.
            self.items.clear();
            self.head = 0;
        }
        self.items.push(Some(item));
    }

    /// The front item, if any.
    pub(crate) fn front(&self) -> Option<&T> {
        self.items.get(self.head)?.as_ref()
    }

    /// Removes all items.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.head = 0;
    }

    /// Takes the front item, if any.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.items.get_mut(self.head)?.take();
        self.head += 1;
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    proptest! {
        /// Any sequence of pushes, pops and clears gives what a `VecDeque` gives.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(0u8..4, 0..200)) {
            let mut fifo: Fifo<u32, 3> = Fifo::default();
            let mut model = VecDeque::new();
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    0 | 1 => {
                        fifo.push_back(i as u32);
                        model.push_back(i as u32);
                    }
                    2 => prop_assert_eq!(fifo.pop_front(), model.pop_front()),
                    _ => {
                        if i % 7 == 0 {
                            fifo.clear();
                            model.clear();
                        }
                    }
                }
                prop_assert_eq!(fifo.front(), model.front());
            }
        }
    }
}

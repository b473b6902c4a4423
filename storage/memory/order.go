package memory

import "math/bits"

// order keeps a table's entries in creation order. A deleted entry leaves a
// nil tombstone; a Fenwick tree counts the live entries so the k-th one is
// found in O(log n), and the tombstones are compacted away once they
// outnumber the live entries, which keeps a delete amortized O(log n).
type order struct {
	entries []*entry
	// tree is a Fenwick tree over entries: node i (1-based, stored at
	// tree[i-1]) counts the live entries in (i-lowbit(i), i].
	tree []int32
	live int
}

func lowbit(i int) int { return i & -i }

// push appends e, setting e.pos.
func (o *order) push(e *entry) {
	e.pos = len(o.entries)
	o.entries = append(o.entries, e)
	i := len(o.entries)
	// Node i covers (i-lowbit(i), i]: e itself plus the nodes that tile
	// (i-lowbit(i), i-1].
	n := int32(1)
	for j := i - 1; j > i-lowbit(i); j -= lowbit(j) {
		n += o.tree[j-1]
	}
	o.tree = append(o.tree, n)
	o.live++
}

// remove turns e's slot into a tombstone.
func (o *order) remove(e *entry) {
	o.entries[e.pos] = nil
	for i := e.pos + 1; i <= len(o.tree); i += lowbit(i) {
		o.tree[i-1]--
	}
	o.live--
	if dead := len(o.entries) - o.live; dead > 64 && dead > o.live {
		o.compact()
	}
}

// compact drops the tombstones in place and rebuilds the tree.
func (o *order) compact() {
	n := 0
	for _, e := range o.entries {
		if e != nil {
			e.pos = n
			o.entries[n] = e
			n++
		}
	}
	clear(o.entries[n:])
	o.entries = o.entries[:n]
	o.tree = o.tree[:n]
	if cap(o.entries) > 4*n+64 { // give back memory after mass deletes
		o.entries = append([]*entry(nil), o.entries...)
		o.tree = append([]int32(nil), o.tree...)
	}
	for i := 1; i <= n; i++ {
		o.tree[i-1] = int32(lowbit(i)) // every entry is live
	}
}

// nth returns the index in entries of the k-th live entry (0-based k), or
// len(entries) when there are not that many.
func (o *order) nth(k int) int {
	if k >= o.live {
		return len(o.entries)
	}
	k++ // 1-based rank
	pos := 0
	for step := 1 << (bits.Len(uint(len(o.tree))) - 1); step > 0; step >>= 1 {
		if next := pos + step; next <= len(o.tree) && int(o.tree[next-1]) < k {
			pos = next
			k -= int(o.tree[next-1])
		}
	}
	return pos // node pos+1 holds the entry, at index pos
}

// page returns up to count live entries (all when count < 0) starting with
// the start-th (0-based).
func (o *order) page(start, count int) []*entry {
	if count == 0 || start >= o.live {
		return nil
	}
	n := o.live - start
	if count > 0 && count < n {
		n = count
	}
	out := make([]*entry, 0, n)
	for _, e := range o.entries[o.nth(start):] {
		if len(out) == n {
			break
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

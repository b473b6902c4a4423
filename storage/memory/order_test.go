package memory

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOrderMatchesModel drives order with random pushes and removes,
// enough to trigger compactions, and checks every page against a plain
// slice.
func TestOrderMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o order
	var model []*entry
	for step := range 5000 {
		if len(model) == 0 || rng.IntN(3) > 0 && step < 3000 || rng.IntN(4) == 0 {
			e := &entry{}
			o.push(e)
			model = append(model, e)
		} else {
			i := rng.IntN(len(model))
			o.remove(model[i])
			model = slices.Delete(model, i, i+1)
		}
		require.Equal(t, len(model), o.live, "step %d", step)
		start, count := rng.IntN(len(model)+2), rng.IntN(12)-1
		want := model[min(start, len(model)):]
		if count >= 0 && count < len(want) {
			want = want[:count]
		}
		got := o.page(start, count)
		if len(want) == 0 {
			require.Empty(t, got, "step %d: page(%d, %d)", step, start, count)
		} else {
			require.Equal(t, want, got, "step %d: page(%d, %d)", step, start, count)
		}
	}
	require.LessOrEqual(t, len(o.entries), 2*o.live+65, "tombstones are compacted")
}

// TestMemberSetMatchesModel drives a memberSet with random adds and
// removes and checks the order and the members' back links.
func TestMemberSetMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := &entry{res: record{group: true, ID: "g"}}
	var users []*entry
	for i := range 400 {
		users = append(users, &entry{res: record{ID: string(rune('a'+i%26)) + string(rune('A'+i/26))}})
	}
	ms := new(memberSet)
	var model []*entry
	for step := range 20000 {
		u := users[rng.IntN(len(users))]
		i := slices.Index(model, u)
		switch {
		case rng.IntN(500) == 0:
			ms.clear(g)
			model = nil
		case rng.IntN(2) == 0:
			ms.add(g, u, "")
			if i < 0 {
				model = append(model, u)
			}
		default:
			ms.remove(g, u.res.ID)
			if i >= 0 {
				model = slices.Delete(model, i, i+1)
			}
		}
		var want []string
		for _, e := range model {
			want = append(want, e.res.ID)
		}
		var got []string
		for _, m := range ms.list() {
			got = append(got, m.Value)
		}
		require.Equal(t, want, got, "step %d", step)
		linked := slices.Contains(u.memberOf.list(), g)
		require.Equal(t, slices.Contains(model, u), linked, "step %d: back link of %s", step, u.res.ID)
	}
}

func TestGroupSetMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	groups := make([]*entry, 100)
	for i := range groups {
		groups[i] = &entry{}
	}
	var s groupSet
	model := map[*entry]bool{}
	for step := range 5000 {
		g := groups[rng.IntN(len(groups))]
		if rng.IntN(3) == 0 {
			s.remove(g)
			delete(model, g)
		} else {
			s.add(g)
			model[g] = true
		}
		got := s.list()
		require.Len(t, got, len(model), "step %d", step)
		for _, x := range got {
			require.True(t, model[x], "step %d", step)
		}
	}
}

package live

import (
	"github.com/logcaster/logcaster/internal/store"
	"github.com/logcaster/logcaster/internal/tokenize"
)

// groupBlock is the Block one published group is matched as. It decodes
// each column once for every filter: a MemBlock builds a column afresh on
// each call, and 100 filters asking for the same field would otherwise
// walk the group 100 times (measured: ingest fell from 134k-341k to 64k
// events/s with 5,000 viewers on 100 filters before this cache).
type groupBlock struct {
	*store.MemBlock
	ts    []int64
	cols  map[string][]string
	names []string
	// tokens holds, per column asked about, the hashes of every token of
	// every value (as a part's bloom filter does, but exact), so that a
	// filter whose words the group lacks skips the row scan: with 100
	// filters, most match nothing in a small group.
	tokens map[string]map[uint64]struct{}
}

func newGroupBlock(b *store.MemBlock) *groupBlock {
	return &groupBlock{MemBlock: b, cols: map[string][]string{}}
}

// MayContain reports whether the column holds every one of the tokens
// somewhere in the group; false is definite.
func (g *groupBlock) MayContain(column string, hashes []uint64) bool {
	set, ok := g.tokens[column]
	if !ok {
		vals, err := g.Column(column)
		if err != nil {
			return true
		}
		set = map[uint64]struct{}{}
		prev := ""
		for i, v := range vals {
			if i > 0 && v == prev {
				continue // runs of one value are common (service, level)
			}
			prev = v
			tokenize.Each(v, func(tok string) {
				if len(tok) <= tokenize.MaxTokenLen {
					set[tokenize.Hash(tok)] = struct{}{}
				}
			})
		}
		if g.tokens == nil {
			g.tokens = map[string]map[uint64]struct{}{}
		}
		g.tokens[column] = set
	}
	for _, h := range hashes {
		if _, ok := set[h]; !ok {
			return false
		}
	}
	return true
}

func (g *groupBlock) Timestamps() ([]int64, error) {
	if g.ts == nil {
		ts, err := g.MemBlock.Timestamps()
		if err != nil {
			return nil, err
		}
		g.ts = ts
	}
	return g.ts, nil
}

func (g *groupBlock) Column(name string) ([]string, error) {
	if c, ok := g.cols[name]; ok {
		return c, nil
	}
	c, err := g.MemBlock.Column(name)
	if err != nil {
		return nil, err
	}
	g.cols[name] = c
	return c, nil
}

func (g *groupBlock) ColumnNames() []string {
	if g.names == nil {
		g.names = g.MemBlock.ColumnNames()
	}
	return g.names
}

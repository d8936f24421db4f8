package live

import (
	"github.com/logcaster/logcaster/internal/store"
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
}

func newGroupBlock(b *store.MemBlock) *groupBlock {
	return &groupBlock{MemBlock: b, cols: map[string][]string{}}
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

package ledger

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raceForOneSeq records one entry, then has two writers append at once to
// stores newStore connects (each its own client, as two deploys have): both
// list before either writes (the barrier), so both take seq 2 and race for
// it on the server. It asserts what every Store must give, exactly one
// record and one ConflictError at seq 2 and no retry at seq 3, and returns
// the winner's index and the log as read afterwards.
func raceForOneSeq(t *testing.T, newStore func() Store) (winner int, entries []Entry) {
	t.Helper()
	ctx := context.Background()
	_, err := Append(ctx, newStore(), prefix, []byte(`{"deploy":"earlier"}`))
	require.NoError(t, err)

	const writers = 2
	var listed sync.WaitGroup
	listed.Add(writers)
	results := make([]error, writers)
	var done sync.WaitGroup
	for i := range writers {
		s := &barrier{Store: newStore(), listed: &listed}
		done.Go(func() {
			_, results[i] = Append(ctx, s, prefix, fmt.Appendf(nil, `{"deploy":%d}`, i))
		})
	}
	done.Wait()

	winner = -1
	var won, conflicts int
	for i, err := range results {
		var conflict *ConflictError
		switch {
		case err == nil:
			won++
			winner = i
		case assert.ErrorAs(t, err, &conflict):
			conflicts++
			assert.Equal(t, 2, conflict.Seq)
			assert.Contains(t, err.Error(), "another deploy of this environment recorded meanwhile")
		}
	}
	assert.Equal(t, 1, won, "exactly one deploy records")
	assert.Equal(t, 1, conflicts, "the other gets a ConflictError")

	entries, err = Read(ctx, newStore(), prefix)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no retry at seq 3")
	assert.JSONEq(t, `{"deploy":"earlier"}`, string(entries[0].Body), "the first entry is unchanged")
	return winner, entries
}

// barrier holds List's answer until every writer has listed.
type barrier struct {
	Store
	listed *sync.WaitGroup
}

func (b *barrier) List(ctx context.Context, p string) ([]string, error) {
	keys, err := b.Store.List(ctx, p)
	b.listed.Done()
	b.listed.Wait()
	return keys, err
}

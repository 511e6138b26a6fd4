package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/environment"
)

const prefix = "iceberg-lakehouse/zzomega/releases"

func TestAppendNumbersEntriesInOrderAndReadReturnsThem(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	for i := 1; i <= 12; i++ {
		e, err := Append(ctx, m, prefix, fmt.Appendf(nil, `{"n":%d}`, i))
		require.NoError(t, err)
		assert.Equal(t, i, e.Seq)
		assert.Equal(t, fmt.Sprintf("%s/%06d.json", prefix, i), e.Key)
	}
	entries, err := Read(ctx, m, prefix)
	require.NoError(t, err)
	require.Len(t, entries, 12)
	for i, e := range entries {
		assert.Equal(t, i+1, e.Seq)
		assert.Equal(t, fmt.Sprintf("%s/%06d.json", prefix, i+1), e.Key)
		assert.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i+1), string(e.Body))
	}
}

func TestReadOfALogNeverWrittenIsEmpty(t *testing.T) {
	entries, err := Read(context.Background(), NewMemory(), prefix)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestLogsOfEnvironmentsAreSeparateEvenWhenOnePrefixStartsTheOther(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	_, err := Append(ctx, m, "iceberg-lakehouse/zzalpha/releases", []byte(`"zzalpha"`))
	require.NoError(t, err)
	// Not under zzalpha/releases/: a sibling log, never mixed in.
	_, err = Append(ctx, m, "iceberg-lakehouse/zzalpha/releases-old", []byte(`"old"`))
	require.NoError(t, err)
	e, err := Append(ctx, m, "iceberg-lakehouse/zzalpha/releases/", []byte(`"zzalpha2"`))
	require.NoError(t, err)
	assert.Equal(t, 2, e.Seq)
	entries, err := Read(ctx, m, "iceberg-lakehouse/zzalpha/releases")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, `"zzalpha2"`, string(entries[1].Body))
}

// racer is a Store where another writer records an entry between Append's
// List and its Put, as a concurrent deploy would.
type racer struct {
	*Memory
	once sync.Once
}

func (r *racer) List(ctx context.Context, p string) ([]string, error) {
	keys, err := r.Memory.List(ctx, p)
	r.once.Do(func() {
		if err := r.Memory.Put(ctx, Key(strings.TrimSuffix(p, "/"), len(keys)+1), []byte(`{"by":"other"}`)); err != nil {
			panic(err)
		}
	})
	return keys, err
}

func TestAppendRefusesWhenAnotherWriterRecordedTheSameSeqAndDoesNotRetry(t *testing.T) {
	ctx := context.Background()
	r := &racer{Memory: NewMemory()}
	require.NoError(t, r.Memory.Put(ctx, Key(prefix, 1), []byte(`{"by":"first"}`)))

	_, err := Append(ctx, r, prefix, []byte(`{"by":"me"}`))
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, 2, conflict.Seq)
	assert.Equal(t, Key(prefix, 2), conflict.Key)
	assert.ErrorIs(t, err, ErrExists)
	assert.Contains(t, err.Error(), "entry 000002")
	assert.Contains(t, err.Error(), "another deploy of this environment recorded meanwhile")
	assert.Contains(t, err.Error(), "NOT recorded")

	// The other writer's entry is intact and nothing of ours was written,
	// not even at the next seq (no retry).
	entries, err := Read(ctx, r.Memory, prefix)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.JSONEq(t, `{"by":"other"}`, string(entries[1].Body))
}

func TestMemoryPutIsCreateOnly(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	require.NoError(t, m.Put(ctx, "k", []byte("1")))
	assert.ErrorIs(t, m.Put(ctx, "k", []byte("2")), ErrExists)
	b, err := m.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "1", string(b))
	_, err = m.Get(ctx, "missing")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestConcurrentAppendsToMemoryNeverBothRecordOneSeq(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	const writers = 20
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = Append(ctx, m, prefix, fmt.Appendf(nil, `{"w":%d}`, i))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var conflict *ConflictError
		if err == nil {
			ok++
		} else {
			require.ErrorAs(t, err, &conflict)
		}
	}
	entries, err := Read(ctx, m, prefix)
	require.NoError(t, err)
	assert.Len(t, entries, ok, "every successful Append is one entry, every other one a ConflictError")
	assert.GreaterOrEqual(t, ok, 1)
}

func TestReadAndAppendRefuseAMalformedLog(t *testing.T) {
	for _, tc := range []struct {
		name    string
		objects map[string]string
		want    string
	}{
		{"not json suffix", map[string]string{"000001.json": `1`, "000002.txt": `2`}, "unexpected object " + prefix + "/000002.txt"},
		{"not digits", map[string]string{"000001.json": `1`, "latest.json": `1`}, "unexpected object " + prefix + "/latest.json"},
		{"nested", map[string]string{"000001.json": `1`, "x/000002.json": `1`}, "unexpected object " + prefix + "/x/000002.json"},
		{"not zero padded", map[string]string{"000001.json": `1`, "2.json": `2`}, "seq 2 is written " + prefix + "/000002.json"},
		{"too much padding", map[string]string{"000001.json": `1`, "0000002.json": `2`}, "seq 2 is written " + prefix + "/000002.json"},
		{"seq zero", map[string]string{"000000.json": `0`}, "unexpected object " + prefix + "/000000.json"},
		{"signed", map[string]string{"+00001.json": `0`}, "unexpected object " + prefix + "/+00001.json"},
		{"gap", map[string]string{"000001.json": `1`, "000003.json": `3`}, prefix + "/000002.json is missing"},
		{"first deleted", map[string]string{"000002.json": `2`}, prefix + "/000001.json is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := NewMemory()
			for name, body := range tc.objects {
				require.NoError(t, m.Put(ctx, prefix+"/"+name, []byte(body)))
			}
			_, err := Read(ctx, m, prefix)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			_, err = Append(ctx, m, prefix, []byte(`{}`))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotErrorIs(t, err, ErrExists)
		})
	}
}

func TestReadRefusesAnEntryThatIsNotJSON(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	require.NoError(t, m.Put(ctx, Key(prefix, 1), []byte(`{"ok":true}`)))
	require.NoError(t, m.Put(ctx, Key(prefix, 2), []byte(`not json`)))
	_, err := Read(ctx, m, prefix)
	require.Error(t, err)
	assert.Contains(t, err.Error(), prefix+"/000002.json is not a JSON document")
}

func TestAppendRefusesBadInputWithoutWriting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, prefix string
		body         []byte
		want         string
	}{
		{"not json", prefix, []byte(`{"a":`), "not a JSON document"},
		{"empty body", prefix, nil, "not a JSON document"},
		{"empty prefix", "", []byte(`{}`), `ledger prefix ""`},
		{"root prefix", "/", []byte(`{}`), `ledger prefix "/"`},
		{"absolute prefix", "/iceberg-lakehouse/zzalpha/releases", []byte(`{}`), "without leading slash"},
		{"empty segment", "iceberg-lakehouse//releases", []byte(`{}`), "empty segments"},
		{"too large", prefix, []byte(`"` + strings.Repeat("x", MaxEntrySize) + `"`), "more than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory()
			_, err := Append(ctx, m, tc.prefix, tc.body)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			keys, err := m.List(ctx, "")
			require.NoError(t, err)
			assert.Empty(t, keys)
		})
	}
}

func TestStoreErrorsAreWrappedWithTheLog(t *testing.T) {
	boom := errors.New("boom")
	_, err := Append(context.Background(), failing{boom}, prefix, []byte(`{}`))
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "release ledger "+prefix+": list entries: boom")
	_, err = Read(context.Background(), failing{boom}, prefix)
	assert.ErrorIs(t, err, boom)
}

type failing struct{ err error }

func (f failing) Put(context.Context, string, []byte) error      { return f.err }
func (f failing) Get(context.Context, string) ([]byte, error)    { return nil, f.err }
func (f failing) List(context.Context, string) ([]string, error) { return nil, f.err }

func TestPrefixIsBesideTheEnvironmentsState(t *testing.T) {
	cat, err := environment.Discover(os.DirFS("../.."))
	require.NoError(t, err)
	require.NotEmpty(t, cat.Envs())
	for _, env := range cat.Envs() {
		p, err := Prefix(env)
		require.NoError(t, err)
		assert.Equal(t, "iceberg-lakehouse/"+env.Name()+"/releases", p)
	}
	_, err = Prefix(environment.Env{})
	assert.Error(t, err)
}

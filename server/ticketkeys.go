package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/httpskit/httpskit/storage"
)

// Session-ticket keys (see HTTPSConfig.Storage).
//
// A TLS listener encrypts session tickets with one key and decrypts them with any key it still
// holds (tls.Config.SetSessionTicketKeys: the first key encrypts). Keys follow one schedule:
//
//   - A new key takes over encryption every TicketKeyRotation.
//   - Each key is made one rotation before it takes over and published at once, so every
//     instance reading the same Storage can decrypt with it before any instance encrypts
//     with it: clocks a little apart, or one instance learning of the key later than another,
//     never cost a resumption.
//   - A key that stopped encrypting still decrypts for TicketKeyLifetime, then is dropped.
//
// With a Storage the schedule lives under the key TicketKeysKey, read and updated under the
// lock of the same name, by every listener every rotation/4 and when the next key takes over.
// Without one it lives in the listener. All of it runs on a goroutine of the listener, never
// in a handshake; a handshake costs what it did with crypto/tls's own keys.
const (
	// TicketKeyRotation is how often a new session-ticket key takes over encryption.
	// (crypto/tls's own keys rotate daily, which testssl.sh warns about.)
	TicketKeyRotation = time.Hour
	// TicketKeyLifetime is how long a session-ticket key still decrypts tickets after a
	// newer key took over: a client resumes on a ticket up to about this old.
	TicketKeyLifetime = 24 * time.Hour
	// TicketKeysKey is the storage key holding the session-ticket keys, as JSON.
	TicketKeysKey = "tls/session-ticket-keys"
)

const (
	// ticketSyncTimeout bounds one reading and update of the keys in the Storage, lock
	// included.
	ticketSyncTimeout = 5 * time.Second
	// ticketLockTTL is how long the lock on the keys is held at most.
	ticketLockTTL = 15 * time.Second
	// ticketRetry is how soon a failed reading of the Storage is tried again.
	ticketRetry = 30 * time.Second
)

// ticketKey is one session-ticket key and when it takes over encryption.
type ticketKey struct {
	Activate time.Time `json:"activate"`
	Key      []byte    `json:"key"` // 32 bytes
}

// storedTicketKeys is the JSON kept at TicketKeysKey.
type storedTicketKeys struct {
	Version int         `json:"version"`
	Keys    []ticketKey `json:"keys"`
}

// ticketKeys rotates the session-ticket keys of one TLS listener.
type ticketKeys struct {
	store  storage.Storage // nil: the keys live here only
	apply  func([][32]byte)
	logger *slog.Logger

	// Set before the listener starts; tests change them.
	now                                 func() time.Time
	rotation, lifetime, retry, syncTime time.Duration

	mu      sync.Mutex  // serialises sync; guards the fields below
	keys    []ticketKey // the schedule in use, newest first
	failing bool        // the Storage failed last time (logged once)
	next    time.Time   // when sync wants to run again
}

// newTicketKeys returns the rotator of a listener whose configuration is cfg, or nil when
// the listener keeps crypto/tls's own ticket handling: tickets disabled, the ticket
// encryption done by TLSConfig's WrapSession and UnwrapSession, or a TLSConfig given without
// a Storage (its own keys, if it set any, are then kept).
func (c *HTTPSConfig) newTicketKeys(cfg *tls.Config, logger *slog.Logger) *ticketKeys {
	if cfg.SessionTicketsDisabled || cfg.WrapSession != nil || cfg.UnwrapSession != nil {
		return nil
	}
	if c.Storage == nil && c.TLSConfig != nil {
		return nil
	}
	return &ticketKeys{
		store: c.Storage, apply: cfg.SetSessionTicketKeys, logger: logger,
		now: time.Now, rotation: TicketKeyRotation, lifetime: TicketKeyLifetime,
		retry: ticketRetry, syncTime: ticketSyncTimeout,
	}
}

// run syncs every time the schedule asks for it, until the returned function is called; that
// function returns once the goroutine has ended. The caller has synced once already.
func (t *ticketKeys) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background()) // cancelled by stop: a sync waiting on the Storage gives up
	done := make(chan struct{})
	go func() {
		defer close(done)
		timer := time.NewTimer(t.wait())
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
				t.sync(ctx)
				timer.Reset(t.wait())
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// wait returns how long until the next sync.
func (t *ticketKeys) wait() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.next.Sub(t.now()), 0)
}

// sync brings the keys up to date with the schedule, through the Storage when there is one,
// and puts them in service. A Storage that fails leaves the keys in service, rotating here on
// the same schedule, and is tried again after t.retry; the failure is logged once, and so is
// the recovery. The Storage is given ctx, bounded by t.syncTime.
func (t *ticketKeys) sync(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	next := now.Add(t.rotation / 4)
	if t.store == nil {
		t.keys = planTicketKeys(t.keys, now, t.rotation, t.lifetime)
	} else if err := t.syncStore(ctx, now); err != nil {
		if !t.failing {
			t.logger.Warn("session ticket keys: storage failed; keeping the keys in use, trying again", "storage", t.store.String(), "retry", t.retry, "err", err)
		}
		t.failing = true
		t.keys = planTicketKeys(t.keys, now, t.rotation, t.lifetime)
		next = now.Add(t.retry)
	} else if t.failing {
		t.failing = false
		t.logger.Info("session ticket keys: storage works again", "storage", t.store.String())
	}
	// Wake up when the next key takes over, if that comes first.
	for _, k := range t.keys {
		if k.Activate.After(now) && k.Activate.Before(next) {
			next = k.Activate
		}
	}
	t.next = next
	t.apply(serviceOrder(t.keys, now))
}

// syncStore reads the schedule from the Storage under its lock, brings it up to date, writes
// it back when it changed, and makes it t.keys. Keys this listener made itself while the
// Storage failed stay as decryption keys until they expire, so tickets issued meanwhile still
// resume here.
func (t *ticketKeys) syncStore(ctx context.Context, now time.Time) (err error) {
	ctx, cancel := context.WithTimeout(ctx, t.syncTime)
	defer cancel()
	if err := t.store.Lock(ctx, TicketKeysKey, ticketLockTTL); err != nil {
		return err
	}
	defer func() {
		if uerr := t.store.Unlock(ctx, TicketKeysKey); err == nil {
			err = uerr
		}
	}()
	var stored []ticketKey
	b, err := t.store.Get(ctx, TicketKeysKey)
	switch {
	case errors.Is(err, storage.ErrNotExist):
	case err != nil:
		return err
	default:
		if stored, err = decodeTicketKeys(b); err != nil {
			t.logger.Warn("session ticket keys: replacing unreadable keys in storage", "storage", t.store.String(), "err", err)
		}
	}
	planned := planTicketKeys(stored, now, t.rotation, t.lifetime)
	if !slices.EqualFunc(planned, stored, sameTicketKey) {
		v, err := json.Marshal(storedTicketKeys{Version: 1, Keys: planned})
		if err != nil {
			return err
		}
		if err := t.store.Put(ctx, TicketKeysKey, v); err != nil {
			return err
		}
	}
	keys := planned
	for _, k := range t.keys {
		if !k.Activate.After(now) && !slices.ContainsFunc(planned, func(p ticketKey) bool { return bytes.Equal(p.Key, k.Key) }) &&
			now.Before(k.Activate.Add(t.rotation+t.lifetime)) {
			keys = append(keys, k)
		}
	}
	t.keys = keys
	return nil
}

func decodeTicketKeys(b []byte) ([]ticketKey, error) {
	var s storedTicketKeys
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1", s.Version)
	}
	for _, k := range s.Keys {
		if len(k.Key) != 32 || k.Activate.IsZero() {
			return nil, errors.New("a key is not 32 bytes or has no activation time")
		}
	}
	return s.Keys, nil
}

func sameTicketKey(a, b ticketKey) bool {
	return a.Activate.Equal(b.Activate) && bytes.Equal(a.Key, b.Key)
}

// planTicketKeys returns the schedule keys brought up to date at now, newest first: a key in
// service, the next key made ahead of its turn, and the older keys that still decrypt.
func planTicketKeys(keys []ticketKey, now time.Time, rotation, lifetime time.Duration) []ticketKey {
	keys = slices.Clone(keys)
	slices.SortStableFunc(keys, func(a, b ticketKey) int { return b.Activate.Compare(a.Activate) })
	// Drop the keys that stopped encrypting (a newer key took over) over lifetime ago.
	out := keys[:0]
	var newerActive time.Time // when the next newer key took over
	for _, k := range keys {
		if k.Activate.After(now) || newerActive.IsZero() || now.Before(newerActive.Add(lifetime)) {
			out = append(out, k)
		}
		if !k.Activate.After(now) {
			newerActive = k.Activate
		}
	}
	keys = out
	byNewest := func(a, b ticketKey) int { return b.Activate.Compare(a.Activate) }
	active := func(k ticketKey) bool { return !k.Activate.After(now) }
	if cur := slices.IndexFunc(keys, active); cur < 0 || !now.Before(keys[cur].Activate.Add(rotation)) {
		// None in service, or the one in service outlived its turn with no successor (no
		// instance ran when the next one was due): one takes over now.
		keys = append(keys, newTicketKey(now))
		slices.SortStableFunc(keys, byNewest)
	}
	if cur := slices.IndexFunc(keys, active); cur == 0 {
		// None made ahead: make the one that takes over after the one in service.
		keys = slices.Insert(keys, 0, newTicketKey(keys[0].Activate.Add(rotation)))
	}
	return keys
}

func newTicketKey(activate time.Time) ticketKey {
	k := make([]byte, 32)
	rand.Read(k)
	return ticketKey{Activate: activate.UTC().Round(0), Key: k}
}

// serviceOrder returns the keys for tls.Config.SetSessionTicketKeys: the one in service
// first (it encrypts), then the newer ones made ahead, then the older ones, newest first, so
// that the common tickets are found at the first or second key tried.
func serviceOrder(keys []ticketKey, now time.Time) [][32]byte {
	var cur, ahead, older [][32]byte
	for _, k := range keys {
		var b [32]byte
		copy(b[:], k.Key)
		switch {
		case k.Activate.After(now):
			ahead = append(ahead, b)
		case cur == nil:
			cur = append(cur, b)
		default:
			older = append(older, b)
		}
	}
	return slices.Concat(cur, ahead, older)
}

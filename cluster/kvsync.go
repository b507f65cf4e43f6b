package cluster

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/halyardhq/halyard/core"
)

// announceKV tells the other nodes about a KV write this node stored.
func (n *Node) announceKV(userID string, kv core.KV, version int64) {
	n.announce(announcement{Kind: announceKV, User: userID, Version: version, Pairs: kvPairs(kv)})
}

// announceToken tells the other nodes a user's token changed; they read
// it from the store.
func (n *Node) announceToken(userID string, _ []byte) {
	n.announce(announcement{Kind: announceToken, User: userID})
}

// announcePurge tells the other nodes this node purged a user (the empty
// KV went before it as a versioned write); they forget the user's record.
func (n *Node) announcePurge(userID string, at time.Time) {
	n.announce(announcement{Kind: announcePurge, User: userID, Since: at})
}

// announceOptOut tells the other nodes a user hid or showed themselves;
// they apply it (the store already holds it).
func (n *Node) announceOptOut(userID string, optOut bool, since time.Time) {
	n.announce(announcement{Kind: announceOptOut, User: userID, OptOut: optOut, Since: since})
}

// announce numbers and sends an announcement; numbering and sending
// under one lock keeps the numbers in sending order, so a receiver sees a
// gap only when one was lost.
func (n *Node) announce(a announcement) {
	n.kvMu.Lock()
	defer n.kvMu.Unlock()
	n.kvSeq++
	a.Stream, a.Seq = n.stream, n.kvSeq
	data, err := encode(&a)
	if err == nil {
		err = n.nc.Publish(subjectKV, data)
	}
	if err != nil {
		n.log.Warn("cluster: announcing a KV or token change failed; other nodes reload", "user", a.User, "err", err)
	}
}

// onAnnouncement applies another node's KV write (if newer than this
// node's), opt-out or history opt-in change, or reloads a user's token; a
// gap reloads everything.
func (n *Node) onAnnouncement(m *nats.Msg) {
	var a announcement
	if err := decode(m.Data, &a); err != nil {
		n.log.Warn("cluster: dropping an undecodable announcement", "err", err)
		return
	}
	n.mu.Lock()
	last, known := n.kvStreams[a.Stream]
	if a.Seq > last {
		n.kvStreams[a.Stream] = a.Seq
	}
	n.mu.Unlock()
	if known && a.Seq != last+1 {
		n.scheduleReload()
	}
	switch a.Kind {
	case announceKV:
		n.cfg.Hub.ApplyKV(a.User, pairsKV(a.Pairs), a.Version)
	case announceOptOut:
		n.cfg.Hub.ApplyOptOut(a.User, a.OptOut, a.Since)
	case announcePurge:
		n.cfg.Hub.ApplyPurge(a.User, a.Since)
	case announceHistory:
		if n.cfg.History != nil {
			n.cfg.History.ApplyChange(a.User, a.History)
		}
	case announceToken:
		if n.cfg.Tokens != nil {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
				defer cancel()
				if err := n.cfg.Tokens.ReloadUser(ctx, a.User); err != nil {
					n.log.Warn("cluster: reloading a token failed; reloading all", "user", a.User, "err", err)
					n.scheduleReload()
				}
			}()
		}
	}
}

// onReconnect reloads what may have been missed while cut off: every KV
// map, token, opt-out and history opt-in, and the state of every shard
// holder.
func (n *Node) onReconnect() {
	n.scheduleReload()
	n.mu.Lock()
	var names []string
	for _, h := range n.holders {
		if h != n.cfg.Name {
			names = append(names, h)
		}
	}
	n.mu.Unlock()
	for _, h := range names {
		n.startResync(h)
	}
}

func (n *Node) scheduleReload() {
	select {
	case n.reloadKV <- struct{}{}:
	default:
	}
}

// kvReloader reloads every map and hash when asked, retrying until the
// store answers.
func (n *Node) kvReloader() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.reloadKV:
		}
		for n.ctx.Err() == nil {
			ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
			err := n.reloadAll(ctx)
			cancel()
			if err == nil {
				break
			}
			n.log.Warn("cluster: reloading KV and tokens failed; retrying", "err", err)
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (n *Node) reloadAll(ctx context.Context) error {
	if n.cfg.Hub != nil {
		if err := n.cfg.Hub.ReloadAllKV(ctx); err != nil {
			return err
		}
		if err := n.cfg.Hub.ReloadOptOuts(ctx); err != nil {
			return err
		}
	}
	if n.cfg.Tokens != nil {
		if err := n.cfg.Tokens.Reload(ctx); err != nil {
			return err
		}
	}
	if n.cfg.History != nil {
		if err := n.cfg.History.ReloadUsers(ctx); err != nil {
			return err
		}
	}
	n.stats.KVReloads.Add(1)
	return nil
}

package cluster

import (
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// NodeInfo is one node as the cluster view shows it.
type NodeInfo struct {
	Name     string
	Shards   []int
	Sockets  int
	LastSeen time.Time
}

// heartbeatLoop announces this node every Heartbeat.
func (n *Node) heartbeatLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		n.sendHeartbeat()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) sendHeartbeat() {
	hb := heartbeat{Node: n.cfg.Name, Shards: n.heldShards(), Sockets: n.sockets(), SentUnix: time.Now().UnixMilli()}
	if data, err := encode(&hb); err == nil {
		_ = n.nc.Publish(subjectNodes, data)
	}
}

func (n *Node) sockets() int {
	if n.cfg.Sockets == nil {
		return 0
	}
	return n.cfg.Sockets()
}

func (n *Node) onHeartbeat(m *nats.Msg) {
	var hb heartbeat
	if err := decode(m.Data, &hb); err != nil || hb.Node == "" {
		return
	}
	n.mu.Lock()
	n.nodes[hb.Node] = NodeInfo{Name: hb.Node, Shards: hb.Shards, Sockets: hb.Sockets, LastSeen: time.Now()}
	n.mu.Unlock()
}

// Nodes returns this node and every node heard from within three
// heartbeats, by name.
func (n *Node) Nodes() []NodeInfo {
	self := NodeInfo{Name: n.cfg.Name, Shards: n.heldShards(), Sockets: n.sockets(), LastSeen: time.Now()}
	n.mu.Lock()
	out := []NodeInfo{self}
	for name, info := range n.nodes {
		if name != n.cfg.Name && time.Since(info.LastSeen) < 3*n.cfg.Heartbeat {
			out = append(out, info)
		}
	}
	n.mu.Unlock()
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

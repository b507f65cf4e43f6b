package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// ClusterView is this node's view of its cluster (package cluster).
type ClusterView interface {
	ClusterStatus() ClusterStatus
}

// ClusterStatus is GET /admin/v1/cluster: this node's name, every node
// heard from lately and the shard count.
type ClusterStatus struct {
	Node       string        `json:"node"`
	Nodes      []ClusterNode `json:"nodes"`
	ShardCount int           `json:"shard_count"`
}

// ClusterNode is one node of ClusterStatus.
type ClusterNode struct {
	Name     string    `json:"name"`
	Shards   []int     `json:"shards"`
	Sockets  int       `json:"sockets"`
	LastSeen time.Time `json:"last_seen"`
}

// adminCluster serves GET /admin/v1/cluster (404 when the program gave
// the server no view).
func (s *Server) adminCluster(c echo.Context) error {
	if s.opts.Cluster == nil {
		return JSON(c, http.StatusNotFound, adminError(http.StatusNotFound, http.StatusText(http.StatusNotFound)))
	}
	st := s.opts.Cluster.ClusterStatus()
	for i := range st.Nodes {
		if st.Nodes[i].Shards == nil {
			st.Nodes[i].Shards = []int{}
		}
	}
	if st.Nodes == nil {
		st.Nodes = []ClusterNode{}
	}
	return JSON(c, http.StatusOK, st)
}

package lantern

import (
	"container/list"
	"sync"
	"time"
)

// imageCache is an LRU of fetch outcomes (a data URI or an error) keyed by
// URL, bounded by the bytes of the URIs and keys it holds; each entry
// expires after its own TTL.
type imageCache struct {
	max int64
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // url → element holding *imageEntry
	lru     *list.List               // front: most recently used
	bytes   int64
}

type imageEntry struct {
	url     string
	uri     string
	err     error
	expires time.Time
}

func (e *imageEntry) size() int64 { return int64(len(e.url) + len(e.uri) + 64) }

func newImageCache(maxBytes int64, now func() time.Time) *imageCache {
	return &imageCache{max: maxBytes, now: now, entries: map[string]*list.Element{}, lru: list.New()}
}

// get returns the live outcome stored for url; ok is false on a miss.
func (c *imageCache) get(url string) (uri string, ok bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.entries[url]
	if !found {
		return "", false, nil
	}
	e := el.Value.(*imageEntry)
	if !c.now().Before(e.expires) {
		c.removeLocked(el)
		return "", false, nil
	}
	c.lru.MoveToFront(el)
	return e.uri, true, e.err
}

// put stores an outcome for ttl, evicting the least recently used entries
// to stay within the byte bound. An entry larger than the bound is not kept.
func (c *imageCache) put(url, uri string, err error, ttl time.Duration) {
	e := &imageEntry{url: url, uri: uri, err: err, expires: c.now().Add(ttl)}
	if e.size() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.entries[url]; found {
		c.removeLocked(el)
	}
	c.entries[url] = c.lru.PushFront(e)
	c.bytes += e.size()
	for c.bytes > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *imageCache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*imageEntry)
	delete(c.entries, e.url)
	c.bytes -= e.size()
}

// stats reports the entries and bytes held, for tests.
func (c *imageCache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}

package core

import "context"

// LoadStored loads the stored KV maps, user records and opt-outs into a hub that is
// already serving because its store was unreachable when it opened (Open
// then loaded nothing, and the store refused every write meanwhile, so no
// KV map was written in between). Loaded maps replace the empty ones served
// meanwhile and reach subscribers as KVUpdated; stored records merge with
// what the hub learned since start: the earlier monitoring start and the
// later sighting win, and a GitHub link made meanwhile is kept. Members
// who opted out leave (MemberLeft): until the store was reached they were
// served, as nothing said they had opted out.
func (h *Hub) LoadStored(ctx context.Context) error {
	if h.opts.Store == nil {
		return nil
	}
	kvs := map[string]KV{}
	if err := h.opts.Store.LoadKV(ctx, func(userID string, kv KV) error {
		kvs[userID] = kv
		return nil
	}); err != nil {
		return err
	}
	var recs []UserRecord
	if err := h.opts.Store.LoadUsers(ctx, func(r UserRecord) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	// Opt-outs first: a hidden member leaves before their KV is loaded,
	// and its KVUpdated then reaches nobody.
	if err := h.loadOptOuts(ctx); err != nil {
		return err
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	for userID, kv := range kvs {
		h.kv[userID] = kv
		if u, ok := h.users.get(userID); ok {
			nu := u.clone()
			nu.KV = kv
			h.replace(nu, KVUpdated)
		}
	}
	for _, r := range recs {
		h.mergeRecordLocked(r)
	}
	return nil
}

// mergeRecordLocked merges a stored record into what the hub holds.
func (h *Hub) mergeRecordLocked(r UserRecord) {
	cur, have := h.records[r.ID]
	if have && cur.GitHubLogin != "" {
		r.GitHubLogin = cur.GitHubLogin
	}
	if u, monitored := h.users.get(r.ID); monitored {
		earlier := !r.MonitoringSince.IsZero() && r.MonitoringSince.Before(u.MonitoringSince())
		later := r.LastSeen.After(u.LastSeen())
		if earlier || later {
			nu := u.clone()
			if earlier {
				nu.SetMonitoringSince(r.MonitoringSince)
			}
			if later {
				nu.SetLastSeen(r.LastSeen)
			}
			h.install(nu) // what the record keeps, no presence change to publish
			h.dirty.add(r.ID)
		}
		if r.GitHubLogin != "" {
			h.records[r.ID] = UserRecord{ID: r.ID, GitHubLogin: r.GitHubLogin}
		}
		return
	}
	if have {
		if cur.MonitoringSince.IsZero() || (!r.MonitoringSince.IsZero() && r.MonitoringSince.Before(cur.MonitoringSince)) {
			cur.MonitoringSince = r.MonitoringSince
		}
		if r.LastSeen.After(cur.LastSeen) {
			cur.LastSeen = r.LastSeen
		}
		if cur.Username == "" {
			cur.Username = r.Username
		}
		cur.GitHubLogin = r.GitHubLogin
		h.records[r.ID] = cur
		h.dirty.add(r.ID)
		return
	}
	h.records[r.ID] = r
}

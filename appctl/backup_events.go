package appctl

// eventOnBackup records a backup's outcome. Each reason of a backup
// (manual, schedule, pre-update, clone, move, box) has its own messages, so
// that other languages say the reason as their sentence needs; the English
// text is "<reason> backup, snapshot …" or "<reason> backup: <error>".
func (m *Manager) eventOnBackup(id, reason, snapshot string, err error) {
	if err != nil {
		m.eventOnBackupFailed(id, reason, err)
		return
	}
	snap := short(snapshot)
	switch reason {
	case "manual":
		m.eventSay(id, EventBackupOK, "manual backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	case "schedule":
		m.eventSay(id, EventBackupOK, "schedule backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	case "pre-update":
		m.eventSay(id, EventBackupOK, "pre-update backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	case "clone":
		m.eventSay(id, EventBackupOK, "clone backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	case "move":
		m.eventSay(id, EventBackupOK, "move backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	case "box":
		m.eventSay(id, EventBackupOK, "box backup, snapshot {{.Snapshot}}", "Snapshot", snap)
	default:
		m.eventSay(id, EventBackupOK, "{{.Reason}} backup, snapshot {{.Snapshot}}", "Reason", reason, "Snapshot", snap)
	}
}

// eventOnBackupFailed records a backup that failed, with its reason's
// message (see eventOnBackup).
func (m *Manager) eventOnBackupFailed(id, reason string, err error) {
	switch reason {
	case "manual":
		m.eventSay(id, EventBackupFail, "manual backup: {{.Err}}", "Err", err)
	case "schedule":
		m.eventSay(id, EventBackupFail, "schedule backup: {{.Err}}", "Err", err)
	case "pre-update":
		m.eventSay(id, EventBackupFail, "pre-update backup: {{.Err}}", "Err", err)
	case "clone":
		m.eventSay(id, EventBackupFail, "clone backup: {{.Err}}", "Err", err)
	case "move":
		m.eventSay(id, EventBackupFail, "move backup: {{.Err}}", "Err", err)
	case "box":
		m.eventSay(id, EventBackupFail, "box backup: {{.Err}}", "Err", err)
	default:
		m.eventSay(id, EventBackupFail, "{{.Reason}} backup: {{.Err}}", "Reason", reason, "Err", err)
	}
}

package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/board"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
)

// MountBoard adds the supervisor board (supervisor role and up):
//
//	GET  /ws/supervisor                     websocket: a "board" frame every second (board.Frame),
//	                                        "overdue_complaints" frames when complaints go overdue
//	GET  /api/v1/board                      the latest board frame
//	POST /api/v1/board/agents/:id/state     {state: available|away|offline, reason}
//	POST /api/v1/board/agents/:id/end-wrapup
//	POST /api/v1/board/contacts/:id/move    {queue} or {agent_id}: a waiting contact
//	POST /api/v1/board/evaluations          {agent_id, score 0–100, comment}
//	GET  /api/v1/board/actions              the latest audited actions
//	GET  /api/v1/reports/intervals          ?from=&to=&queue=&format=csv  per queue per 15 minutes
//	GET  /api/v1/reports/agents             ?from=&to=&format=csv         evaluation scores
//	GET  /api/v1/reports/complaints         ?from=&to=&format=csv         by category and severity
//
// Report ranges default to today; at most 93 days.
func MountBoard(s *Server, b *board.Board, o hub.Options) {
	h := &boardHandlers{s: s, b: b, o: o, up: o.Upgrader()}
	s.Public.GET("/ws/supervisor", h.socket)
	g := s.API.Group("", RequireRole(store.RoleSupervisor))
	g.GET("/board", h.latest)
	g.POST("/board/agents/:id/state", h.agentState)
	g.POST("/board/agents/:id/end-wrapup", h.endWrapUp)
	g.POST("/board/contacts/:id/move", h.move)
	g.POST("/board/evaluations", h.evaluate)
	g.GET("/board/actions", h.actions)
	g.GET("/reports/intervals", h.intervals)
	g.GET("/reports/agents", h.agents)
	g.GET("/reports/complaints", h.complaints)
}

type boardHandlers struct {
	s  *Server
	b  *board.Board
	o  hub.Options
	up *websocket.Upgrader
}

func (h *boardHandlers) socket(c *gin.Context) {
	u, err := h.s.Authenticate(c)
	if errors.Is(err, auth.ErrUnauthenticated) {
		jsonError(c, http.StatusUnauthorized, "authentication required")
		return
	}
	if err != nil {
		h.s.deps.Log.Error("board socket: authenticate", "err", err)
		jsonError(c, http.StatusInternalServerError, "could not authenticate")
		return
	}
	if !u.Role.AtLeast(store.RoleSupervisor) {
		jsonError(c, http.StatusForbidden, "forbidden: requires role supervisor")
		return
	}
	ws, err := h.up.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader answered
	}
	c.Abort()
	if err := h.b.Serve(c.Request.Context(), hub.NewConn(ws, h.o)); err != nil {
		h.s.deps.Log.Debug("board socket closed", "user_id", u.ID, "err", err)
	}
}

func (h *boardHandlers) latest(c *gin.Context) {
	buf := h.b.Latest()
	if buf == nil {
		jsonError(c, http.StatusServiceUnavailable, "board not ready")
		return
	}
	c.Data(http.StatusOK, "application/json", buf)
}

func (h *boardHandlers) fail(c *gin.Context, op string, err error) {
	switch {
	case errors.Is(err, board.ErrInvalid):
		jsonError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, board.ErrNotFound):
		jsonError(c, http.StatusNotFound, err.Error())
	case errors.Is(err, board.ErrConflict):
		jsonError(c, http.StatusConflict, err.Error())
	default:
		h.s.deps.Log.Error(op, "err", err)
		jsonError(c, http.StatusInternalServerError, "could not "+op)
	}
}

func boardPathID(c *gin.Context, what string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		jsonError(c, http.StatusBadRequest, what+" id must be a positive integer")
		return 0, false
	}
	return id, true
}

func boardUser(c *gin.Context) contact.AgentID { return contact.AgentID(CurrentUser(c).ID) }

func (h *boardHandlers) agentState(c *gin.Context) {
	id, ok := boardPathID(c, "agent")
	if !ok {
		return
	}
	var req struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	if err := h.b.SetAgentState(c.Request.Context(), boardUser(c), contact.AgentID(id), req.State, req.Reason); err != nil {
		h.fail(c, "set agent state", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ok": true})
}

func (h *boardHandlers) endWrapUp(c *gin.Context) {
	id, ok := boardPathID(c, "agent")
	if !ok {
		return
	}
	if err := h.b.EndWrapUp(c.Request.Context(), boardUser(c), contact.AgentID(id)); err != nil {
		h.fail(c, "end wrap-up", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ok": true})
}

func (h *boardHandlers) move(c *gin.Context) {
	id, ok := boardPathID(c, "contact")
	if !ok {
		return
	}
	var req struct {
		Queue   contact.QueueName `json:"queue"`
		AgentID contact.AgentID   `json:"agent_id"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	if err := h.b.MoveContact(c.Request.Context(), boardUser(c), contact.ID(id), req.Queue, req.AgentID); err != nil {
		h.fail(c, "move contact", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ok": true})
}

func (h *boardHandlers) evaluate(c *gin.Context) {
	var req struct {
		AgentID contact.AgentID `json:"agent_id"`
		Score   *int            `json:"score"`
		Comment string          `json:"comment"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	if req.AgentID <= 0 || req.Score == nil {
		jsonError(c, http.StatusBadRequest, "agent_id and score are required")
		return
	}
	if err := h.b.Evaluate(c.Request.Context(), boardUser(c), req.AgentID, *req.Score, req.Comment); err != nil {
		h.fail(c, "evaluate agent", err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"ok": true})
}

func (h *boardHandlers) actions(c *gin.Context) {
	as, err := h.s.deps.Store.SupervisorActions(c.Request.Context(), 200)
	if err != nil {
		h.fail(c, "list actions", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"actions": as})
}

// boardRange reads from/to, defaulting to today.
func boardRange(c *gin.Context) (time.Time, time.Time, bool) {
	from, to, ok := cqTimeRange(c)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	now := time.Now()
	y, m, d := now.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	f, t := day, now
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	} else if from != nil && !now.After(f) {
		t = f.AddDate(0, 0, 1)
	}
	if !t.After(f) {
		jsonError(c, http.StatusBadRequest, "to must be after from")
		return time.Time{}, time.Time{}, false
	}
	if t.Sub(f) > board.MaxReportRange {
		jsonError(c, http.StatusBadRequest, "the range is limited to 93 days")
		return time.Time{}, time.Time{}, false
	}
	return f, t, true
}

func (h *boardHandlers) intervals(c *gin.Context) {
	from, to, ok := boardRange(c)
	if !ok {
		return
	}
	rows, err := h.b.IntervalReport(c.Request.Context(), from, to, contact.QueueName(c.Query("queue")))
	if err != nil {
		h.fail(c, "interval report", err)
		return
	}
	if cqWantsCSV(c) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="intervals.csv"`)
		_ = board.WriteIntervalsCSV(c.Writer, rows, time.Local)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "intervals": rows})
}

func (h *boardHandlers) agents(c *gin.Context) {
	from, to, ok := boardRange(c)
	if !ok {
		return
	}
	rows, err := h.b.AgentReport(c.Request.Context(), from, to)
	if err != nil {
		h.fail(c, "agent report", err)
		return
	}
	if cqWantsCSV(c) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="agents.csv"`)
		_ = board.WriteAgentsCSV(c.Writer, rows)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "weights": board.EvalWeights, "agents": rows})
}

func (h *boardHandlers) complaints(c *gin.Context) {
	from, to, ok := boardRange(c)
	if !ok {
		return
	}
	rows, err := h.s.deps.Store.ComplaintStats(c.Request.Context(), from, to)
	if err != nil {
		h.fail(c, "complaint report", err)
		return
	}
	if cqWantsCSV(c) {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="complaints.csv"`)
		_ = board.WriteComplaintStatsCSV(c.Writer, rows)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": from, "to": to, "stats": rows})
}

package web

import (
	"errors"
	"net/http"

	"github.com/contacthub/contacthub/contact"
	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/hub"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

// MountAgentSocket serves /ws/agent: the console's live channel, for
// agents and supervisors, authenticated by the session cookie.
func MountAgentSocket(s *Server, h *hub.Hub) {
	s.Public.GET("/ws/agent", func(c *gin.Context) {
		u, err := s.Authenticate(c)
		if errors.Is(err, auth.ErrUnauthenticated) {
			jsonError(c, http.StatusUnauthorized, "authentication required")
			return
		}
		if err != nil {
			jsonError(c, http.StatusServiceUnavailable, "temporarily unavailable")
			return
		}
		if u.Role != store.RoleAgent && u.Role != store.RoleSupervisor {
			jsonError(c, http.StatusForbidden, "forbidden: only agents and supervisors take contacts")
			return
		}
		h.ServeAgent(c.Writer, c.Request, hub.AgentInfo{ID: contact.AgentID(u.ID), Name: u.Name, DisplayName: u.DisplayName})
	})
}

package web

import (
	"errors"
	"net/http"

	"github.com/contacthub/contacthub/internal/auth"
	"github.com/contacthub/contacthub/internal/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) listUsers(c *gin.Context) {
	users, err := s.deps.Store.ListUsers(c.Request.Context())
	if err != nil {
		s.deps.Log.Error("list users", "err", err)
		jsonError(c, http.StatusInternalServerError, "could not list users")
		return
	}
	if users == nil {
		users = []store.User{}
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

type createUserRequest struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        store.Role `json:"role"`
	Password    string     `json:"password"`
}

func (s *Server) createUser(c *gin.Context) {
	var req createUserRequest
	if !decodeJSON(c, &req) {
		return
	}
	u, pw, err := s.deps.Auth.CreateUser(c.Request.Context(), req.Name, req.DisplayName, req.Role, req.Password)
	switch {
	case errors.Is(err, store.ErrConflict):
		jsonError(c, http.StatusConflict, "a user with that name exists")
		return
	case err != nil:
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	resp := gin.H{"user": u}
	if req.Password == "" {
		resp["password"] = pw
	}
	c.JSON(http.StatusCreated, resp)
}

type bulkUsersRequest struct {
	Prefix   string     `json:"prefix"`
	Count    int        `json:"count"`
	Role     store.Role `json:"role"`
	Password string     `json:"password"`
}

// bulkUsers provisions many users with one password (load tests, trials).
func (s *Server) bulkUsers(c *gin.Context) {
	var req bulkUsersRequest
	if !decodeJSON(c, &req) {
		return
	}
	if req.Count < 1 || req.Count > 100000 || !req.Role.Valid() || len(req.Prefix) < 2 || len(req.Prefix) > 32 {
		jsonError(c, http.StatusBadRequest, "want prefix (2-32 chars), count 1..100000, role agent|supervisor|admin, password")
		return
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.deps.Store.CreateUsersBulk(c.Request.Context(), req.Prefix, req.Count, req.Role, hash)
	if err != nil {
		jsonError(c, http.StatusBadRequest, err.Error())
		return
	}
	c.JSON(http.StatusCreated, gin.H{"created": n})
}

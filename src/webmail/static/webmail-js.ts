/**
 * The webmail's one script (progressive enhancement only; every page works without it):
 * dates in the reader's time zone, "/" to search, j/k to move between messages.
 */
export const JS = String.raw`(function(){
"use strict";
var now=new Date();
document.querySelectorAll("time[datetime]").forEach(function(t){
  var d=new Date(t.getAttribute("datetime"));if(isNaN(d))return;
  var same=d.toDateString()===now.toDateString();
  var inList=t.classList.contains("date");
  var o=inList&&same?{hour:"2-digit",minute:"2-digit"}:inList&&d.getFullYear()===now.getFullYear()?{day:"numeric",month:"short",hour:"2-digit",minute:"2-digit"}:{day:"numeric",month:"short",year:"numeric",hour:"2-digit",minute:"2-digit"};
  t.title=d.toString();t.textContent=new Intl.DateTimeFormat(undefined,o).format(d);
});
document.addEventListener("keydown",function(e){
  if(e.ctrlKey||e.metaKey||e.altKey)return;
  var tag=(e.target&&e.target.tagName)||"";if(/INPUT|TEXTAREA|SELECT/.test(tag))return;
  if(e.key==="/"){var q=document.getElementById("q");if(q){e.preventDefault();q.focus();q.select();}return;}
  if(e.key==="j"||e.key==="k"){
    var rows=[].slice.call(document.querySelectorAll("a.msg"));if(!rows.length)return;
    var i=rows.indexOf(document.activeElement);
    i=e.key==="j"?Math.min(rows.length-1,i+1):Math.max(0,i<0?0:i-1);
    rows[i].focus();e.preventDefault();
  }
  if(e.key==="u"){var b=document.getElementById("back");if(b){b.click();}}
});
})();`;
